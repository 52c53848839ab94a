package io.crossdistil.job.io;

import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.event.LabelOrder;
import io.crossdistil.model.features.FeatureHasher;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.SystemLimitException;

/**
 * Reads the training {@link Example} of a plainly valid event written with this project's own
 * schema straight from its bytes: values are hashed where they lie in the record, nothing but the
 * event id becomes a string, no Avro record or map is filled. Avro's reader copies every string
 * and map entry into objects first, which was most of the source thread's allocation in the
 * running job, on the core the trainer shares with it.
 *
 * <p>It returns null for anything else: another schema, bytes it cannot read, any label, feature
 * or dense value that the checks in {@link EventDecoder} could object to, a varint written in more
 * bytes than it needs, a map or string over Wire's limits. {@link EventDecoder} then decodes the
 * record with Avro and decides, so a bad record's dead-letter reason is always Avro's or the
 * checks' own. Whatever it returns is what that path gives (a test compares both on valid, odd and
 * corrupted records): the schema's fields in order (event_id, user_id, item_id, event_time,
 * categorical, dense, labels, teacher_scores), a map's later entry for a key winning as in a map,
 * the event's own ids standing for user_id and item_id as in {@code FeatureEncoder}.
 */
final class InPlaceExampleReader {
    private final FeatureHasher hasher;
    private final Names features;
    private final int userIdField;
    private final int itemIdField;
    private final int[] missingRows;
    private final Names denseFeatures;
    private final Names tasks;
    private final int maxFeatures;
    /** Avro's limits as the Avro path applies them (see {@link Wire}). */
    private final long maxFieldBytes;
    private final long maxMapItems;

    private byte[] buf;
    private int pos;
    /** The map being read: entries left in its current block, entries read so far. */
    private long blockLeft;
    private int mapEntries;

    InPlaceExampleReader(ModelConfig cfg, int maxFeatures) {
        this.hasher = new FeatureHasher(cfg.features, cfg.hashRows);
        this.features = new Names(cfg.features);
        this.userIdField = cfg.features.indexOf("user_id");
        this.itemIdField = cfg.features.indexOf("item_id");
        this.missingRows = new int[cfg.features.size()];
        for (int f = 0; f < missingRows.length; f++) {
            missingRows[f] = hasher.row(cfg.features.get(f), FeatureHasher.MISSING);
        }
        this.denseFeatures = new Names(cfg.denseFeatures);
        this.tasks = new Names(cfg.tasks); // at most 8 (ModelConfig): one bit each in a mask below
        this.maxFeatures = maxFeatures;
        this.maxFieldBytes = Wire.avroLimit(SystemLimitException.MAX_STRING_LENGTH_PROPERTY);
        this.maxMapItems = Wire.avroLimit(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY);
    }

    /** The event's example, or null when {@link EventDecoder}'s Avro path must decide. */
    Example read(byte[] bytes) {
        int body = Wire.FeedbackEventReader.bodyOffset(bytes);
        if (body < 0) {
            return null;
        }
        buf = bytes;
        pos = body;
        try {
            return readBody();
        } catch (ArrayIndexOutOfBoundsException | NotPlain e) {
            return null;
        } finally {
            buf = null;
        }
    }

    private Example readBody() {
        int idLength = length();
        String eventId = new String(buf, pos, idLength, StandardCharsets.UTF_8);
        pos += idLength;
        int[] rows = missingRows.clone();
        ownId(userIdField, rows);
        ownId(itemIdField, rows);
        long eventTime = varLong();

        startMap();
        while (nextEntry()) {
            int key = find(features);
            int valueLength = length();
            if (key >= 0 && key != userIdField && key != itemIdField) {
                rows[key] = hasher.row(key, buf, pos, valueLength);
            }
            pos += valueLength;
        }
        if (mapEntries > maxFeatures) {
            throw NotPlain.INSTANCE;
        }

        float[] dense = new float[denseFeatures.size()];
        startMap();
        while (nextEntry()) {
            int key = find(denseFeatures);
            float v = Float.intBitsToFloat((buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | buf[pos + 3] << 24);
            pos += 4;
            if (!Float.isFinite(v)) {
                throw NotPlain.INSTANCE;
            }
            if (key >= 0) {
                dense[key] = v;
            }
        }

        int[] labels = new int[tasks.size()];
        int seen = 0;
        startMap();
        while (nextEntry()) {
            int task = find(tasks);
            long v = varLong();
            if (task < 0 || (v != 0 && v != 1)) {
                throw NotPlain.INSTANCE;
            }
            labels[task] = (int) v;
            seen |= 1 << task;
        }
        if (seen != (1 << tasks.size()) - 1) {
            throw NotPlain.INSTANCE;
        }

        long teacherScores = varLong();
        if (teacherScores == 1) {
            startMap();
            while (nextEntry()) {
                int keyLength = length();
                pos += keyLength + 4;
            }
        } else if (teacherScores != 0) {
            throw NotPlain.INSTANCE;
        }
        if (pos > buf.length) {
            throw NotPlain.INSTANCE;
        }
        return new Example(eventId, eventTime, rows, dense, LabelOrder.permutation(labels));
    }

    /** The string field of the event's own id, hashed as configured field {@code f} (if it is one) with its bytes where they lie. */
    private void ownId(int f, int[] rows) {
        int n = length();
        if (f >= 0) {
            rows[f] = hasher.row(f, buf, pos, n);
        }
        pos += n;
    }

    /** Reads a map key and returns which of {@code names} it is, or -1. */
    private int find(Names names) {
        int n = length();
        int at = pos;
        pos += n;
        return names.indexOf(buf, at, n);
    }

    /** Configured names, found by a key's bytes. */
    private static final class Names {
        private final List<String> names;
        private final byte[][] utf8;

        Names(List<String> names) {
            this.names = List.copyOf(names);
            this.utf8 = names.stream().map(name -> name.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        }

        int size() {
            return names.size();
        }

        /** An ASCII key is compared byte for byte; any other as the string a decoder makes of it, as the Avro path compares it. */
        int indexOf(byte[] key, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                if (key[i] < 0) {
                    return names.indexOf(new String(key, offset, length, StandardCharsets.UTF_8));
                }
            }
            for (int k = 0; k < utf8.length; k++) {
                if (Arrays.equals(key, offset, offset + length, utf8[k], 0, utf8[k].length)) {
                    return k;
                }
            }
            return -1;
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

    /** A map block's item count (a negative count is followed by the block's size in bytes), within Wire's limit on a map's items. */
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

    /** A string's length, within the record and Wire's limit on a field. */
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

    /** Not a plainly valid event of this schema: the Avro path decides. Thrown without a stack trace. */
    private static final class NotPlain extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final NotPlain INSTANCE = new NotPlain();

        private NotPlain() {
            super(null, null, false, false);
        }
    }
}
