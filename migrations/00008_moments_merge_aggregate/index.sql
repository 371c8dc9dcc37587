-- The actuals' moments (count n, mean, M2 = sum of squared deviations) of several rollup rows or
-- deltas are merged exactly by PostgreSQL's own float8_combine: the C function behind var_pop's
-- parallel aggregation, over the state {n, sum, M2}, with the pairwise formula
-- M2 = M2_a + M2_b + n_a n_b (mean_a - mean_b)^2 / n (Chan et al.; never raw sums of squares).
-- As an aggregate it merges any number of rows in one pass, in any order: reads no longer need a
-- window over sorted rows (migration 00007), and writes derive the coarser rollup tiers from the
-- minute deltas (src/store/rollup.ts) instead of aggregating the inserted rows once per tier.
-- Its input is {n, n * mean, M2}; the merged mean is sum / n.
create aggregate mlmon_merge_moments(float8[]) (
  sfunc = float8_combine, stype = float8[], initcond = '{0,0,0}', combinefunc = float8_combine, parallel = safe);

-- mlmon_window_pieces of migration 00007 (why it plans as it does is explained there), merging
-- with the aggregate: DB CPU per read ~10 % lower (BENCHMARKS.md).
create or replace function mlmon_window_pieces(
  boundaries timestamptz[], versions text[], starts timestamptz[], ends timestamptz[], sources int[],
  anomaly_threshold float8, combined_series text)
returns table (
  piece int, model_version text, predictions float8, confidence_sum float8, latency_count float8,
  latency_sum_ms float8, labelled float8, accurate float8, anomalies float8, error_abs_sum float8,
  error_sq_sum float8, actual_mean float8, actual_m2 float8)
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
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2
    from r join ml_rollup_day t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 1 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2
    from r join ml_rollup_hour t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 2 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2
    from r join ml_rollup_10min t on t.bucket >= r.start_at and t.bucket < r.end_at
    where r.source = 3 and (versions is null or t.model_version = any(versions))
    union all
    select width_bucket(t.bucket, boundaries) - 1, coalesce(combined_series, t.model_version) collate "C",
           t.predictions, t.confidence_sum, t.latency_count, t.latency_sum_ms, t.labelled, t.accurate, t.anomalies,
           t.error_abs_sum, t.error_sq_sum, t.actual_mean, t.actual_m2
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
           coalesce(avg(p.actual_delay_minutes), 0), coalesce(var_pop(p.actual_delay_minutes) * count(p.actual_delay_minutes), 0)
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
           mlmon_merge_moments(array[p.labelled, p.labelled * p.actual_mean, p.actual_m2]::float8[]) as moments
    from parts p
    group by p.piece, p.series
  )
  select g.piece, g.series::text, g.predictions, g.confidence_sum, g.latency_count, g.latency_sum_ms, g.labelled,
         g.accurate, g.anomalies, g.error_abs_sum, g.error_sq_sum,
         coalesce(g.moments[2] / nullif(g.moments[1], 0), 0), g.moments[3]
  from grouped g
  order by g.piece, g.series;
end
$$;
