package io.crossdistil.job.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.DeadLetter;
import io.crossdistil.avro.Wire;
import org.junit.jupiter.api.Test;

class DeadLetterRecordTest {
    @Test
    void aDeadLetterFitsKafkasDefaultMessageLimitAndSaysWhereTheWholeRecordIs() throws Exception {
        byte[] huge = new byte[2 * 1024 * 1024];
        huge[5] = 42;
        DeadLetterRecord d = new DeadLetterRecord(new RawRecord(huge, "feedback", 3, 77), "record too large", 1L);
        byte[] encoded = d.encode();
        assertTrue(encoded.length < 1_000_000, "encoded dead letter of " + encoded.length + " bytes");
        DeadLetter back = Wire.deadLetter(encoded);
        assertEquals(DeadLetterRecord.MAX_RAW_BYTES, back.getRaw().remaining());
        assertEquals(42, back.getRaw().get(5));
        assertTrue(back.getReason().startsWith("record too large (raw bytes cut to 921600 of 2097152; the whole record is feedback/3@77)"),
                back.getReason());

        byte[] small = {1, 2, 3};
        DeadLetter kept = Wire.deadLetter(new DeadLetterRecord(new RawRecord(small, "feedback", 0, 1), "bad", 1L).encode());
        byte[] raw = new byte[kept.getRaw().remaining()];
        kept.getRaw().get(raw);
        assertArrayEquals(small, raw);
        assertEquals("bad", kept.getReason());
    }
}
