package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.features.InvalidEventException;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.testutils.MetricListener;
import org.junit.jupiter.api.Test;

class DecodeMetricsTest {
    private static final ModelConfig CFG = ModelConfig.fromMap(Map.of("dense-features", "watch,age"));

    private static byte[] event(Map<String, Float> dense, int like) {
        return Wire.encode(FeedbackEvent.newBuilder().setEventId("e").setUserId("u").setItemId("i").setEventTime(0L)
                .setCategorical(Map.of()).setDense(dense).setLabels(Map.of("finish", 1, "like", like)).build());
    }

    /** Decoded events, dead letters, and per dense field the decoded events that lacked it and its recent mean, as Flink metrics. */
    @Test
    void countsEventsDeadLettersAndEachDenseFieldsMissingValuesAndRecentMean() throws Exception {
        MetricListener listener = new MetricListener();
        DecodeMetrics metrics = new DecodeMetrics(listener.getMetricGroup(), CFG.denseFeatures);
        EventDecoder decoder = new EventDecoder(CFG, 1000, 1 << 20);
        List<byte[]> records = List.of(event(Map.of("watch", 0.5f, "age", 3f), 1), event(Map.of("age", 7f), 0), event(Map.of(), 1),
                event(Map.of("watch", 0f), 7), event(Map.of("watch", Float.NaN), 0));
        for (byte[] r : records) {
            try {
                metrics.decoded(decoder.decode(r));
            } catch (InvalidEventException bad) {
                metrics.deadLetter();
            }
        }
        assertEquals(3, listener.getCounter("eventsDecoded").orElseThrow().getCount());
        assertEquals(2, listener.getCounter("deadLetters").orElseThrow().getCount(), "a label of 7, a NaN");
        assertEquals(2, listener.getCounter("dense", "watch", "missingValues").orElseThrow().getCount());
        assertEquals(1, listener.getCounter("dense", "age", "missingValues").orElseThrow().getCount());
        // the recent mean of the decoded events' values: watch 0.5 alone (its 0 and NaN came in dead letters), age 3 then 7
        double d = Math.exp(-1.0 / DecodeMetrics.RECENT_VALUES);
        assertEquals(0.5, (Double) listener.getGauge("dense", "watch", "recentMean").orElseThrow().getValue(), 1e-12);
        assertEquals((3 * d + 7) / (d + 1), (Double) listener.getGauge("dense", "age", "recentMean").orElseThrow().getValue(), 1e-12);
    }
}
