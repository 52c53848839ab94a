package io.crossdistil.model.metrics;

/**
 * Progressive-validation numbers of one task, since the start and over the recent window. Each is
 * NaN while undefined (for example AUC before both classes were seen).
 */
public record TaskScore(String task, long events, long positives, double auc, double multiAuc, double logLoss,
        double calibration, double windowAuc, double windowMultiAuc, double windowLogLoss, double windowCalibration) {}
