package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.Samples;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What serving runs: the backbone and the student towers of a trained model, with its values,
 * and nothing else (no teachers, calibration, gradients or optimizer state). It predicts exactly
 * what {@link CrossDistilModel#predict} predicts with the same values for the same batch.
 * Predictions make new arrays, so one instance may score on several threads.
 */
public final class StudentModel {
    private final ModelConfig cfg;
    private final MultiTaskNetwork network;

    private StudentModel(ModelConfig cfg, MultiTaskNetwork network) {
        this.cfg = cfg;
        this.network = network;
    }

    /**
     * The students of a model with configuration {@code cfg} and the parameters {@code tensors},
     * named as {@link CrossDistilModel#tensors()} names them (a snapshot's tensors); tensors the
     * students do not use are ignored.
     *
     * @throws IllegalArgumentException naming a tensor that is missing or of the wrong shape
     */
    public static StudentModel of(ModelConfig cfg, Map<String, INDArray> tensors) {
        return new StudentModel(cfg, MultiTaskNetwork.studentsFrom(cfg, tensors, CrossDistilModel.EMBEDDING));
    }

    public ModelConfig config() {
        return cfg;
    }

    /** The student probabilities, [events][tasks], tasks in the configuration's order. */
    public double[][] predict(List<Example> events) {
        return network.forward(events, Samples.none(cfg.numTasks()), false).predictions();
    }
}
