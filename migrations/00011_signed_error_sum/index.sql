-- The signed error (predicted - actual, minutes) summed per rollup bucket, so that reads can
-- report a model's bias: the mean of that error over the labelled predictions. The absolute and
-- squared errors (MAE, RMSE) cannot tell a model that overestimates delays from one that
-- underestimates them.
--
-- A bucket that existed before this migration gets its sum from its raw rows when its labelled
-- ones are all still stored: their count matches the bucket's. Raw rows dropped by
-- MLMON_RETENTION_DAYS cannot be summed, so such a bucket's sum stays null, "not known", for good
-- (no prediction can be written or labelled there again), and a window that includes it reports
-- no bias rather than a wrong one. The writers add to it as to every other sum; null plus a delta
-- stays null. Each coarser tier is summed from the one below it, unknown if any part is.
--
-- The rollups are locked first: a write committed between the read of the raw rows and the
-- update would otherwise be missed (a correction keeps the labelled count and would leave a
-- wrong sum that reads as known). Writes wait for the migration. Replicas of the previous
-- version must be stopped before this one starts: their writes do not know the new column.
lock table ml_rollup_minute, ml_rollup_10min, ml_rollup_hour, ml_rollup_day in exclusive mode;

alter table ml_rollup_minute add column error_sum float8;
alter table ml_rollup_10min add column error_sum float8;
alter table ml_rollup_hour add column error_sum float8;
alter table ml_rollup_day add column error_sum float8;

update ml_rollup_minute r set error_sum = s.error_sum
from (select date_bin('60 seconds', created_at, timestamptz '1970-01-01 00:00:00+00') as bucket, model_version,
             count(actual_delay_minutes) as labelled, coalesce(sum(predicted_delay_minutes - actual_delay_minutes), 0) as error_sum
      from ml_prediction group by 1, 2) s
where s.bucket = r.bucket and s.model_version = r.model_version and s.labelled = r.labelled;
-- A bucket without labelled predictions has nothing to sum, whatever happened to its raw rows.
update ml_rollup_minute set error_sum = 0 where error_sum is null and labelled = 0;

do $$
declare
  tier record;
begin
  for tier in select * from (values ('ml_rollup_10min', 600, 'ml_rollup_minute'), ('ml_rollup_hour', 3600, 'ml_rollup_10min'),
                                    ('ml_rollup_day', 86400, 'ml_rollup_hour')) as t(name, seconds, finer) loop
    execute format($sql$
      update %I r set error_sum = s.error_sum
      from (select date_bin(make_interval(secs => %s), bucket, timestamptz '1970-01-01 00:00:00+00') as bucket, model_version,
                   sum(labelled) as labelled, case when bool_and(error_sum is not null) then sum(error_sum) end as error_sum
            from %I group by 1, 2) s
      where s.bucket = r.bucket and s.model_version = r.model_version and s.labelled = r.labelled
      $sql$, tier.name, tier.seconds, tier.finer);
    execute format('update %I set error_sum = 0 where error_sum is null and labelled = 0', tier.name);
  end loop;
end
$$;

-- mlmon_window_pieces of migration 00008 (why it plans as it does: 00007), with the signed error.
-- Its result type changes, so it is dropped and created again; jit = off as in migration 00009.
drop function mlmon_window_pieces(timestamptz[], text[], timestamptz[], timestamptz[], int[], float8, text);
create function mlmon_window_pieces(
  boundaries timestamptz[], versions text[], starts timestamptz[], ends timestamptz[], sources int[],
  anomaly_threshold float8, combined_series text)
returns table (
  piece int, model_version text, predictions float8, confidence_sum float8, latency_count float8,
  latency_sum_ms float8, labelled float8, accurate float8, anomalies float8, error_abs_sum float8,
  error_sq_sum float8, actual_mean float8, actual_m2 float8, error_sum float8)
language plpgsql stable
set enable_seqscan = off
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
begin
  -- Sources: 0 raw rows, then the tiers coarsest first (as src/store/read-window.ts numbers them).
  return query
  with r as materialized (
    select * from unnest(starts, ends, sources) as r(start_at, end_at, source)
  ),
  -- One branch per tier, spelled out: a view of the four tiers joined on the source number read
  -- 10 times slower (the planner scanned every tier for every range instead of gating them).
  parts as (
    select width_bucket(t.bucket, boundaries) - 1 as piece, coalesce(combined_series, t.model_version) collate "C" as series,
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2, t.error_sum
    from r join ml_rollup_day t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 1 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2, t.error_sum
    from r join ml_rollup_hour t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 2 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2, t.error_sum
    from r join ml_rollup_10min t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 3 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2, t.error_sum
    from r join ml_rollup_minute t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 4 and (versions is null or t.model_version = any(versions))
    union all
    -- Raw edge rows are summed per piece and series here, as the write path sums them into a
    -- bucket, so that only a few rows reach the merge below (an edge minute holds hundreds).
    select width_bucket(p.created_at, boundaries) - 1, coalesce(combined_series, p.model_version) collate "C",
           count(*), sum(p.confidence), count(p.prediction_time_ms), coalesce(sum(p.prediction_time_ms), 0),
           count(p.actual_delay_minutes), count(*) filter (where p.is_accurate),
           count(*) filter (where p.prediction_error > anomaly_threshold),
           coalesce(sum(p.prediction_error), 0), coalesce(sum(p.prediction_error * p.prediction_error), 0),
           coalesce(avg(p.actual_delay_minutes), 0), coalesce(var_pop(p.actual_delay_minutes) * count(p.actual_delay_minutes), 0),
           coalesce(sum(p.predicted_delay_minutes - p.actual_delay_minutes), 0)
    from r join ml_prediction p on p.created_at >= r.start_at and p.created_at < r.end_at
    where r.source = 0 and (versions is null or p.model_version = any(versions))
    group by 1, 2
  ),
  -- Per piece and series: sums, and the actuals' moments merged by mlmon_merge_moments.
  grouped as (
    select p.piece, p.series,
           sum(p.predictions)::float8 as predictions, sum(p.confidence_sum)::float8 as confidence_sum,
           sum(p.latency_count)::float8 as latency_count, sum(p.latency_sum_ms)::float8 as latency_sum_ms,
           sum(p.labelled)::float8 as labelled, sum(p.accurate)::float8 as accurate, sum(p.anomalies)::float8 as anomalies,
           sum(p.error_abs_sum)::float8 as error_abs_sum, sum(p.error_sq_sum)::float8 as error_sq_sum,
           mlmon_merge_moments(array[p.labelled, p.labelled * p.actual_mean, p.actual_m2]::float8[]) as moments,
           -- Unknown (null) if any part is: sum() alone would skip it and report a wrong bias.
           case when bool_and(p.error_sum is not null) then sum(p.error_sum)::float8 end as error_sum
    from parts p
    group by p.piece, p.series
  )
  select g.piece, g.series::text, g.predictions, g.confidence_sum, g.latency_count, g.latency_sum_ms, g.labelled,
         g.accurate, g.anomalies, g.error_abs_sum, g.error_sq_sum,
         coalesce(g.moments[2] / nullif(g.moments[1], 0), 0), g.moments[3], g.error_sum
  from grouped g
  order by g.piece, g.series;
end
$$;

alter function mlmon_window_pieces(timestamptz[], text[], timestamptz[], timestamptz[], int[], float8, text)
  set jit = off;
