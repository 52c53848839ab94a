package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.synthetic.SyntheticEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Generated events as the Avro records the job reads. */
public final class Events {
    private Events() {}

    /** @param dense the dense fields the record carries (where the event has them) */
    public static FeedbackEvent fromSynthetic(SyntheticEvent s, List<String> tasks, List<String> dense) {
        Map<String, Integer> labels = new LinkedHashMap<>();
        for (int k = 0; k < tasks.size(); k++) {
            labels.put(tasks.get(k), s.labels()[k]);
        }
        Map<String, Float> values = new LinkedHashMap<>();
        for (String d : dense) {
            Float v = s.dense().get(d);
            if (v != null) {
                values.put(d, v);
            }
        }
        return FeedbackEvent.newBuilder().setEventId(s.eventId()).setUserId(s.userId()).setItemId(s.itemId())
                .setEventTime(s.eventTime()).setCategorical(new LinkedHashMap<>(s.categorical())).setDense(values)
                .setLabels(labels).setTeacherScores(null).build();
    }
}
