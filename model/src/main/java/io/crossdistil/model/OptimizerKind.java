package io.crossdistil.model;

import java.util.Locale;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.RampSchedule;

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
        return updater(learningRate, 0);
    }

    /**
     * The updater of a parameter group of a model of configuration {@code cfg}: after a warm start
     * (initial-snapshot) its rate ramps up over the first initial-snapshot-ramp-events events.
     */
    public IUpdater updater(double learningRate, ModelConfig cfg) {
        long rampSteps = cfg.initialSnapshot == null ? 0 : (cfg.initialSnapshotRampEvents + cfg.batchSize - 1) / cfg.batchSize;
        return updater(learningRate, (int) Math.min(Integer.MAX_VALUE, rampSteps));
    }

    /** With {@code rampSteps > 0}, the rate grows linearly over the first that many steps (ND4J's RampSchedule), then stays. */
    public IUpdater updater(double learningRate, int rampSteps) {
        if (rampSteps <= 0) {
            return switch (this) {
                case ADAM -> new Adam(learningRate);
                case ADAGRAD -> new AdaGrad(learningRate);
                case SGD -> new Sgd(learningRate);
            };
        }
        ISchedule rate = new RampSchedule(new FixedSchedule(learningRate), rampSteps);
        return switch (this) {
            case ADAM -> new Adam(rate);
            case ADAGRAD -> new AdaGrad(rate);
            case SGD -> new Sgd(rate);
        };
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
