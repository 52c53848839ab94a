package io.crossdistil.model;

import io.crossdistil.model.features.FeatureHasher;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.synthetic.SyntheticEvent;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Examples from the project's synthetic stream, hashed as the job hashes them. */
final class TestData {
    private TestData() {}

    static List<Example> examples(ModelConfig cfg, double[] rates, int n, long seed) {
        SyntheticStream stream = new SyntheticStream(cfg.tasks, rates, seed, 2_000, 500);
        FeatureHasher hasher = new FeatureHasher(cfg.features, cfg.hashRows);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SyntheticEvent e = stream.next();
            Map<String, String> values = new HashMap<>(e.categorical());
            values.put("user_id", e.userId());
            values.put("item_id", e.itemId());
            float[] dense = new float[cfg.denseFeatures.size()];
            for (int j = 0; j < dense.length; j++) {
                dense[j] = (float) Math.sin(i * 0.37 + j); // any finite value
            }
            out.add(new Example(e.eventId(), e.eventTime(), hasher.rows(values), dense, LabelOrder.permutation(e.labels())));
        }
        return out;
    }

    static QuadrupletSampler filledSampler(ModelConfig cfg, List<Example> events) {
        QuadrupletSampler s = new QuadrupletSampler(cfg.numTasks(), cfg.reservoirCapacity, cfg.seed);
        s.offerAll(events);
        return s;
    }
}
