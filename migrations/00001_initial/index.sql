-- Raw predictions: every column of the replaced service's ml_prediction table.
create table ml_prediction (
  id                      bigint generated always as identity primary key,
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
  updated_at              timestamptz not null default now()
);
-- Idempotency: a retried request stores nothing twice.
create unique index ml_prediction_request_id on ml_prediction (request_id) where request_id is not null;
create index ml_prediction_booking on ml_prediction (booking_id);
-- Newest-first listing and the raw edges of windows; id breaks ties for the paging cursor.
create index ml_prediction_created on ml_prediction (created_at desc, id desc);
create index ml_prediction_created_labelled on ml_prediction (created_at, actual_delay_minutes);

-- The ground truth per booking. It arrives in any order relative to the predictions: a row here
-- with no prediction yet is "pending" and is joined the moment the prediction is stored.
create table ml_actual (
  booking_id           bigint primary key,
  actual_delay_minutes double precision not null,
  actual_pickup_at     timestamptz,
  actual_dropoff_at    timestamptz,
  received_at          timestamptz not null default now(),
  updated_at           timestamptz not null default now()
);

-- Mergeable per-minute aggregates by model version, maintained in the same transaction as each
-- write (including corrections), so windows never scan raw predictions. The actuals' spread is
-- kept as Welford/Chan moments (count = labelled, mean, M2) to keep R² exact when actuals are
-- large with a small spread.
create table ml_rollup_minute (
  bucket             timestamptz not null,
  model_version      varchar(50) not null,
  predictions        bigint not null default 0,
  confidence_sum     double precision not null default 0,
  latency_count      bigint not null default 0,
  latency_sum_ms     double precision not null default 0,
  labelled           bigint not null default 0,
  accurate           bigint not null default 0,
  anomalies          bigint not null default 0,
  error_abs_sum      double precision not null default 0,
  error_sq_sum       double precision not null default 0,
  actual_mean        double precision not null default 0,
  actual_m2          double precision not null default 0,
  primary key (bucket, model_version)
);
create index ml_rollup_minute_version on ml_rollup_minute (model_version, bucket);

-- Failed ML requests (the model could not answer), per minute: successes are the predictions.
create table ml_request_failure_minute (
  bucket        timestamptz not null,
  model_version varchar(50) not null,
  failures      bigint not null default 0,
  primary key (bucket, model_version)
);

-- The rollout flag of the replaced service's `activate_ml` command: one row.
create table ml_feature_flag (
  id                    boolean primary key default true check (id),
  ml_enabled            boolean not null default false,
  ml_traffic_percentage integer not null default 0 check (ml_traffic_percentage between 0 and 100),
  updated_at            timestamptz not null default now()
);
insert into ml_feature_flag default values;
