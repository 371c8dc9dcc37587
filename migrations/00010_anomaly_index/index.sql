-- /anomalies lists the newest predictions of a window whose error exceeds a threshold. Anomalies
-- are rare, so finding them newest first through the created_at index fetched every row of the
-- window: 320-400 ms at 700,000 predictions a day, on every dashboard refresh. This index holds
-- only the predictions over the seed's definition of an anomaly, an error of more than 5 minutes
-- (MLMON_ANOMALY_THRESHOLD_MINUTES's default), so it serves every threshold of 5 minutes or
-- more; the read plans with the threshold's value to use it (src/store/read-predictions.ts).
-- A write pays for it only when the prediction it stores or labels is such an anomaly.
create index ml_prediction_anomalies on ml_prediction (created_at desc, id desc) where prediction_error > 5;
