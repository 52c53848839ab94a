package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.model.synthetic.SyntheticEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Generated events as the Avro records the job reads. */
public final class Events {
    private Events() {}

    public static FeedbackEvent fromSynthetic(SyntheticEvent s, List<String> tasks) {
        Map<String, Integer> labels = new LinkedHashMap<>();
        for (int k = 0; k < tasks.size(); k++) {
            labels.put(tasks.get(k), s.labels()[k]);
        }
        return FeedbackEvent.newBuilder().setEventId(s.eventId()).setUserId(s.userId()).setItemId(s.itemId())
                .setEventTime(s.eventTime()).setCategorical(new LinkedHashMap<>(s.categorical())).setDense(new LinkedHashMap<>())
                .setLabels(labels).setTeacherScores(null).build();
    }
}
