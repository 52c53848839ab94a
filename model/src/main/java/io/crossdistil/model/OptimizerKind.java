package io.crossdistil.model;

import java.util.Locale;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/** The optimizers the model can use; each maps to ND4J's own updater. */
public enum OptimizerKind {
    ADAM,
    ADAGRAD,
    SGD;

    public static OptimizerKind parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown optimizer '" + s + "'; use adam, adagrad or sgd");
        }
    }

    public IUpdater updater(double learningRate) {
        return switch (this) {
            case ADAM -> new Adam(learningRate);
            case ADAGRAD -> new AdaGrad(learningRate);
            case SGD -> new Sgd(learningRate);
        };
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
