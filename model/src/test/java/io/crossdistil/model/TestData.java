package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.util.List;

/** Examples from the project's synthetic stream, hashed as the job hashes them. */
final class TestData {
    private TestData() {}

    static List<Example> examples(ModelConfig cfg, double[] rates, int n, long seed) {
        return SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, rates, seed, 2_000, 500), n);
    }

    static QuadrupletSampler filledSampler(ModelConfig cfg, List<Example> events) {
        QuadrupletSampler s = new QuadrupletSampler(cfg.numTasks(), cfg.features.size(), cfg.denseFeatures.size(), cfg.reservoirCapacity, cfg.seed);
        s.offerAll(events);
        return s;
    }
}
