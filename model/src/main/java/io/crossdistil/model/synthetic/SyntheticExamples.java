package io.crossdistil.model.synthetic;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.features.FeatureEncoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A synthetic stream already encoded into training examples, as the job's decoder would make them. */
public final class SyntheticExamples {
    private SyntheticExamples() {}

    /** {@code n} examples; dense features (if configured) get deterministic finite values. */
    public static List<Example> take(ModelConfig cfg, SyntheticStream stream, int n) {
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SyntheticEvent e = stream.next();
            Map<String, String> values = new HashMap<>(e.categorical());
            values.put("user_id", e.userId());
            values.put("item_id", e.itemId());
            Map<String, Float> dense = new HashMap<>();
            for (int j = 0; j < cfg.denseFeatures.size(); j++) {
                dense.put(cfg.denseFeatures.get(j), (float) Math.sin(i * 0.37 + j));
            }
            Example x = encoder.encode(values, dense);
            x.eventId = e.eventId();
            x.eventTime = e.eventTime();
            x.permutation = LabelOrder.permutation(e.labels());
            out.add(x);
        }
        return out;
    }
}
