package io.crossdistil.model;

import java.util.Map;

/**
 * What one training step reports.
 *
 * @param predictions per batch event, per task: the calibrated student probability the model gave
 *     the event <em>before</em> learning from it (the progressive-validation score)
 * @param modelLoss L_Model of the step
 * @param calibrationLoss L_Cal of the step (0 for variants without calibration)
 * @param skipped true when a loss or gradient was not finite and nothing was updated
 * @param terms every loss term by name, for diagnosis
 */
public record StepResult(double[][] predictions, double modelLoss, double calibrationLoss, boolean skipped,
        Map<String, Double> terms) {}
