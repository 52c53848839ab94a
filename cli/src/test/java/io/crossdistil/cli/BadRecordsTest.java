package io.crossdistil.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.job.io.EventDecoder;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.features.InvalidEventException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every kind of bad record the generator makes is rejected by the job's decoder with the right reason. */
class BadRecordsTest {
    @Test
    void everyBadRecordIsRejectedWithItsReason() throws Exception {
        EventDecoder decoder = new EventDecoder(ModelConfig.fromMap(Map.of("dense-features", "x")), 1000, 1 << 20);
        GeneratedRecords records = new GeneratedRecords(List.of("finish", "like"), new double[] {0.38, 0.1}, 5, 100);
        int bad = 0;
        for (int i = 0; i < 3_000; i++) {
            GeneratedRecords.Record r = records.next();
            if (r.badKind() == null) {
                decoder.decode(r.bytes()); // a good one decodes
                continue;
            }
            bad++;
            InvalidEventException e = assertThrows(InvalidEventException.class, () -> decoder.decode(r.bytes()),
                    "record " + i + " of kind " + r.badKind() + " was accepted");
            assertTrue(e.getMessage().contains(r.badKind().reasonContains), r.badKind() + ": " + e.getMessage());
        }
        assertTrue(bad == 30);
    }
}
