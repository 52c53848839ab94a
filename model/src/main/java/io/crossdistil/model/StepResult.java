package io.crossdistil.model;

import java.util.Map;

/**
 * What one training step reports.
 *
 * @param predictions per batch event, per task: the probability the model served for the event
 *     <em>before</em> learning from it (the progressive-validation score)
 * @param scores the same events' student probabilities before the output calibration: their
 *     order is the served probabilities' (the calibration is increasing), and it is what the
 *     AUCs are read from, so that a calibration moving between steps does not reorder events
 * @param modelLoss L_Model of the step
 * @param calibrationLoss L_Cal of the step (0 for variants without calibration)
 * @param skipped true when a loss or gradient was not finite and nothing was updated
 * @param terms every loss term by name, for diagnosis
 */
public record StepResult(double[][] predictions, double[][] scores, double modelLoss, double calibrationLoss, boolean skipped,
        Map<String, Double> terms) {}
