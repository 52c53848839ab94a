package io.crossdistil.model.synthetic;

import io.crossdistil.model.Example;
import io.crossdistil.model.LabelOrder;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.features.FeatureHasher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A synthetic stream already hashed into training examples, as the job's decoder would make them. */
public final class SyntheticExamples {
    private SyntheticExamples() {}

    /** {@code n} examples; dense features (if configured) get deterministic finite values. */
    public static List<Example> take(ModelConfig cfg, SyntheticStream stream, int n) {
        FeatureHasher hasher = new FeatureHasher(cfg.features, cfg.hashRows);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SyntheticEvent e = stream.next();
            Map<String, String> values = new HashMap<>(e.categorical());
            values.put("user_id", e.userId());
            values.put("item_id", e.itemId());
            float[] dense = new float[cfg.denseFeatures.size()];
            for (int j = 0; j < dense.length; j++) {
                dense[j] = (float) Math.sin(i * 0.37 + j);
            }
            out.add(new Example(e.eventId(), e.eventTime(), hasher.rows(values), dense, LabelOrder.permutation(e.labels())));
        }
        return out;
    }
}
