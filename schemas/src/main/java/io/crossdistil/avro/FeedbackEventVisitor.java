package io.crossdistil.avro;

/**
 * Receives a {@link FeedbackEvent}'s fields where they lie in its bytes, in the schema's order
 * (see {@link FeedbackEventParser}): strings as UTF-8 byte ranges of {@code buf}, map entries one
 * by one (a later entry for a key standing where a map would keep it: after the earlier one).
 */
public interface FeedbackEventVisitor {
    void eventId(byte[] buf, int offset, int length);

    void userId(byte[] buf, int offset, int length);

    void itemId(byte[] buf, int offset, int length);

    void eventTime(long millis);

    void categorical(byte[] buf, int keyOffset, int keyLength, int valueOffset, int valueLength);

    void dense(byte[] buf, int keyOffset, int keyLength, float value);

    void label(byte[] buf, int keyOffset, int keyLength, long value);
}
