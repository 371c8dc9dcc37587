/**
 * The predictions table of the Flask monitor mlmon replaces, as its SQLAlchemy model declares it
 * (../shared/peers/seed-flask/app.py): naive timestamps, factors as JSON text. For the import tests.
 */
export const FLASK_TABLE = `
  create table ml_prediction (
    id serial primary key,
    booking_id integer not null,
    driver_id integer,
    request_id varchar(100),
    predicted_delay_minutes double precision not null,
    confidence double precision not null,
    risk_level varchar(20) not null,
    contributing_factors text,
    model_version varchar(50),
    prediction_time_ms double precision,
    feature_flag_enabled boolean,
    traffic_percentage integer,
    actual_delay_minutes double precision,
    actual_pickup_at timestamp,
    actual_dropoff_at timestamp,
    prediction_error double precision,
    is_accurate boolean,
    created_at timestamp not null,
    updated_at timestamp not null
  )`;
