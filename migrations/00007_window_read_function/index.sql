-- Windowed reads (src/store/read-window.ts) sum rollup buckets and raw edge rows over ranges
-- that arrive as parameters. The service prepares the read once per connection, so PostgreSQL
-- plans it without the ranges' values; it then guesses that each range holds a ninth of a table,
-- and at 10 million predictions it chose a sequential scan of the raw rows: 6 s instead of 4 ms.
-- Every part of the read has an index on its time column, and every range is narrow, so the
-- function plans with sequential scans off: the plan is the same nested loop of index scans
-- whatever the table sizes. It plans once per session (generic plan): a plan for the ranges'
-- values would cost ~1-2 ms per call and choose the same nested loop.
create function mlmon_window_pieces(
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
    -- bucket, so that only a few rows reach the sort below (an edge minute holds hundreds).
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
  -- Per piece and series: sums, and the actuals' moments merged with the stable two-level formula
  -- M2 = Σ M2_i + Σ n_i (mean_i - mean)², never with raw sums of squares. The group mean comes
  -- from a window over the same sorted rows (one sort, no second scan); min() just picks it.
  centred as (
    select *, sum(p.labelled * p.actual_mean) over w / nullif(sum(p.labelled::float8) over w, 0) as mean
    from parts p window w as (partition by p.piece, p.series)
  )
  select c.piece, c.series::text,
         sum(c.predictions)::float8, sum(c.confidence_sum)::float8, sum(c.latency_count)::float8,
         sum(c.latency_sum_ms)::float8, sum(c.labelled)::float8, sum(c.accurate)::float8,
         sum(c.anomalies)::float8, sum(c.error_abs_sum)::float8, sum(c.error_sq_sum)::float8, min(c.mean)::float8,
         sum(c.actual_m2 + c.labelled * (c.actual_mean - coalesce(c.mean, 0)) ^ 2)::float8
  from centred c
  group by c.piece, c.series
  order by c.piece, c.series;
end
$$;
