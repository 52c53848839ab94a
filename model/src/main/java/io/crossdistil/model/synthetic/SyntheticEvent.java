package io.crossdistil.model.synthetic;

import java.util.Map;

/** One generated impression: ids, time, categorical features, dense features (those the event has) and a 0/1 label per task. */
public record SyntheticEvent(String eventId, String userId, String itemId, long eventTime,
        Map<String, String> categorical, Map<String, Float> dense, int[] labels) {}
