-- Raw predictions become a table partitioned by month of created_at, so that retention drops
-- whole partitions (instant, no bloat) and windows prune to the months they touch. Rollups are
-- not partitioned: they are small and are kept longer than raw rows.
--
-- A unique index on a partitioned table must contain the partition key, so request_id
-- idempotency moves to its own table.

alter table ml_prediction rename to ml_prediction_unpartitioned;
alter index ml_prediction_request_id rename to ml_prediction_unpartitioned_request_id;
alter index ml_prediction_booking rename to ml_prediction_unpartitioned_booking;
alter index ml_prediction_created rename to ml_prediction_unpartitioned_created;
alter index ml_prediction_created_labelled rename to ml_prediction_unpartitioned_created_labelled;

create table ml_prediction (
  id                      bigint generated always as identity,
  booking_id              bigint not null,
  driver_id               bigint,
  request_id              varchar(100),
  predicted_delay_minutes double precision not null,
  confidence              double precision not null check (confidence >= 0 and confidence <= 1),
  risk_level              varchar(20) not null,
  contributing_factors    jsonb,
  model_version           varchar(50) not null default 'unknown',
  prediction_time_ms      double precision check (prediction_time_ms >= 0),
  feature_flag_enabled    boolean,
  traffic_percentage      integer check (traffic_percentage between 0 and 100),
  actual_delay_minutes    double precision,
  actual_pickup_at        timestamptz,
  actual_dropoff_at       timestamptz,
  prediction_error        double precision,
  is_accurate             boolean,
  created_at              timestamptz not null default now(),
  updated_at              timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);
create index ml_prediction_booking on ml_prediction (booking_id);
create index ml_prediction_created on ml_prediction (created_at desc, id desc);
create index ml_prediction_created_labelled on ml_prediction (created_at, actual_delay_minutes);

-- request_id -> when its prediction was created (retention prunes both together).
create table ml_request_id (
  request_id varchar(100) primary key,
  created_at timestamptz not null
);
create index ml_request_id_created on ml_request_id (created_at);

-- One partition per calendar month (UTC), named ml_prediction_pYYYYMM; created on first write.
create function mlmon_ensure_month_partition(month_start timestamptz) returns void
language plpgsql as $$
declare
  lower_bound timestamptz := date_trunc('month', month_start at time zone 'UTC') at time zone 'UTC';
  upper_bound timestamptz := lower_bound + interval '1 month';
  name text := 'ml_prediction_p' || to_char(lower_bound at time zone 'UTC', 'YYYYMM');
begin
  if to_regclass(name) is null then
    -- Serialise creators (replicas, concurrent batches) of the same month.
    perform pg_advisory_xact_lock(727101, (extract(year from lower_bound at time zone 'UTC') * 12
                                           + extract(month from lower_bound at time zone 'UTC'))::int);
    -- After waiting for the lock, the catalog seen here may still predate the other creator's
    -- commit: its "already exists" is the expected outcome of that race, not an error.
    begin
      execute format('create table %I partition of ml_prediction for values from (%L) to (%L)', name, lower_bound, upper_bound);
    exception when duplicate_table or unique_violation then
      null;
    end;
  end if;
end $$;

do $$
declare month timestamptz;
begin
  for month in select distinct date_trunc('month', created_at at time zone 'UTC') at time zone 'UTC' from ml_prediction_unpartitioned loop
    perform mlmon_ensure_month_partition(month);
  end loop;
end $$;

insert into ml_prediction overriding system value select * from ml_prediction_unpartitioned;
insert into ml_request_id select request_id, created_at from ml_prediction_unpartitioned where request_id is not null;
select setval(pg_get_serial_sequence('ml_prediction', 'id'), (select coalesce(max(id), 0) + 1 from ml_prediction), false);
drop table ml_prediction_unpartitioned;
