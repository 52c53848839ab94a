package io.crossdistil.avro;

import org.apache.avro.SystemLimitException;

/**
 * Reads an event written with this project's own {@link FeedbackEvent} schema straight from its
 * bytes, handing every field to a {@link FeedbackEventVisitor} where it lies: no Avro record, map
 * or string is made. Avro's reader copies every string and map entry into objects first, which
 * was most of the source thread's allocation in the running job.
 *
 * <p>It reads only what is plainly such an event: the project's single-object header, the fields
 * in the schema's order (event_id, user_id, item_id, event_time, categorical, dense, labels,
 * teacher_scores), varints in as few bytes as they need, strings and maps within the limits
 * {@link Wire} gives Avro. For anything else {@link #parse} returns false, and the caller decodes
 * the bytes with Avro, whose errors are then the ones reported. One parser per thread.
 */
public final class FeedbackEventParser {
    private final long maxFieldBytes = Wire.avroLimit(SystemLimitException.MAX_STRING_LENGTH_PROPERTY);
    private final long maxMapItems = Wire.avroLimit(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY);

    private byte[] buf;
    private int pos;
    /** The map being read: entries left in its current block, entries read so far. */
    private long blockLeft;
    private long mapEntries;

    /**
     * Hands the event's fields to {@code visitor}; false when the bytes are not plainly an event of
     * this schema (the visitor may have seen some fields by then: they mean nothing).
     */
    public boolean parse(byte[] bytes, FeedbackEventVisitor visitor) {
        int body = Wire.FeedbackEventReader.bodyOffset(bytes);
        if (body < 0) {
            return false;
        }
        buf = bytes;
        pos = body;
        try {
            readBody(visitor);
            return pos <= buf.length;
        } catch (ArrayIndexOutOfBoundsException | NotPlain e) {
            return false;
        } finally {
            buf = null;
        }
    }

    private void readBody(FeedbackEventVisitor v) {
        int n = length();
        v.eventId(buf, pos, n);
        pos += n;
        n = length();
        v.userId(buf, pos, n);
        pos += n;
        n = length();
        v.itemId(buf, pos, n);
        pos += n;
        v.eventTime(varLong());

        startMap();
        while (nextEntry()) {
            int keyLength = length();
            int key = pos;
            pos += keyLength;
            int valueLength = length();
            v.categorical(buf, key, keyLength, pos, valueLength);
            pos += valueLength;
        }

        startMap();
        while (nextEntry()) {
            int keyLength = length();
            int key = pos;
            pos += keyLength;
            float value = Float.intBitsToFloat((buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | buf[pos + 3] << 24);
            pos += 4;
            v.dense(buf, key, keyLength, value);
        }

        startMap();
        while (nextEntry()) {
            int keyLength = length();
            int key = pos;
            pos += keyLength;
            v.label(buf, key, keyLength, varLong());
        }

        // teacher_scores: null, or a map of floats the trainer does not read
        long branch = varLong();
        if (branch == 1) {
            startMap();
            while (nextEntry()) {
                int keyLength = length();
                pos += keyLength + 4;
            }
        } else if (branch != 0) {
            throw NotPlain.INSTANCE;
        }
    }

    /** Starts reading a map: its entries come in blocks, each led by its count; a count of 0 ends the map. */
    private void startMap() {
        mapEntries = 0;
        blockLeft = 0;
    }

    /** Whether the map has another entry (then the caller reads it), reading a block's count where one is due. */
    private boolean nextEntry() {
        if (blockLeft == 0) {
            blockLeft = blockCount();
            if (blockLeft == 0) {
                return false;
            }
        }
        blockLeft--;
        mapEntries++;
        return true;
    }

    /** A map block's item count (a negative count is followed by the block's size in bytes), within the limit on a map's items. */
    private long blockCount() {
        long n = varLong();
        if (n < 0) {
            n = -n;
            varLong();
        }
        if (n < 0 || n > maxMapItems - mapEntries) { // n < 0: it was Long.MIN_VALUE
            throw NotPlain.INSTANCE;
        }
        return n;
    }

    /** A string's length, within the record and the limit on a field. */
    private int length() {
        long n = varLong();
        if (n < 0 || n > maxFieldBytes || n > buf.length - pos) {
            throw NotPlain.INSTANCE;
        }
        return (int) n;
    }

    /** Avro's zig-zag varint, in as few bytes as it needs (a longer one, which Avro may read otherwise, is not plain). */
    private long varLong() {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = buf[pos++];
            raw |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                // b > 1 in the tenth byte would not fit
                if (b == 0 && shift > 0 || shift == 63 && b > 1) {
                    throw NotPlain.INSTANCE;
                }
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw NotPlain.INSTANCE;
    }

    /** Not plainly an event of this schema. Thrown without a stack trace. */
    private static final class NotPlain extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final NotPlain INSTANCE = new NotPlain();

        private NotPlain() {
            super(null, null, false, false);
        }
    }
}
