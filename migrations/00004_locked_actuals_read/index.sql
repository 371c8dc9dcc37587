-- A prediction write is one statement (no BEGIN/COMMIT round trips). It must still see an actual
-- that commits while it waits for its booking stripes: actuals take the stripes exclusive, then
-- label the predictions they can see, so a prediction that cannot see the actual must not commit
-- before it. The statement's own snapshot is taken before the wait; a VOLATILE function's query
-- takes a fresh snapshot after it (READ COMMITTED), so the read below sees that actual.
create function mlmon_actuals_of_locked_bookings(lock_namespace int, stripes int[], bookings bigint[])
returns setof ml_actual
language plpgsql volatile as $$
begin
  -- In the order given (ascending), so that writers never deadlock on stripes.
  perform pg_advisory_xact_lock_shared(lock_namespace, s) from unnest(stripes) with ordinality as t(s, n) order by n;
  return query select * from ml_actual where booking_id = any(bookings);
end
$$;
