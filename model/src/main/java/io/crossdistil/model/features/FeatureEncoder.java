package io.crossdistil.model.features;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import java.util.List;
import java.util.Map;

/**
 * Turns an event's features into the model's input: categorical values hashed into embedding rows,
 * dense values in configuration order (missing ones 0). The trainer's decoder and the serving
 * scorer both use it, so they agree on every input. Labels are the caller's business.
 */
public final class FeatureEncoder {
    private final FeatureHasher hasher;
    private final List<String> denseFields;

    public FeatureEncoder(ModelConfig cfg) {
        this.hasher = new FeatureHasher(cfg.features, cfg.hashRows);
        this.denseFields = cfg.denseFeatures;
    }

    /** The event's features with the given label permutation (0 for an unlabelled event). */
    public Example encode(FeedbackEvent e, int permutation) {
        // the event's own ids stand for user_id and item_id over categorical values of those names;
        // looked up field by field rather than copied into a map of their own (every event, in the source thread)
        Map<String, String> categorical = e.getCategorical();
        int[] rows = hasher.rows(field -> switch (field) {
            case "user_id" -> e.getUserId();
            case "item_id" -> e.getItemId();
            default -> categorical.get(field);
        });
        return new Example(e.getEventId(), e.getEventTime(), rows, dense(e.getDense()), permutation);
    }

    /** A plain feature map (user_id and item_id are ordinary keys here), unlabelled. */
    public Example encode(Map<String, String> categorical, Map<String, Float> dense) {
        return new Example("", 0L, hasher.rows(categorical), dense(dense), 0);
    }

    private float[] dense(Map<String, Float> values) {
        float[] out = new float[denseFields.size()];
        for (int j = 0; j < out.length; j++) {
            Float v = values.get(denseFields.get(j));
            out[j] = v == null ? 0f : v;
        }
        return out;
    }
}
