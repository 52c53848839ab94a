package io.crossdistil.cli;

import io.crossdistil.avro.FeedbackEvent;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.state.SeededRandom;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.util.List;

/**
 * The records of a generated stream, in order, as they go on the wire: every {@code badEvery}-th
 * record (if {@code badEvery > 0}) is a bad one of a rotating {@link BadRecords.Kind}. The same
 * arguments give the same records, so a test can know exactly what a run was fed.
 */
public final class GeneratedRecords {
    /** One record: its bytes, and its bad kind or null for a good event. */
    public record Record(byte[] bytes, BadRecords.Kind badKind) {}

    private static final BadRecords.Kind[] KINDS = BadRecords.Kind.values();

    private final SyntheticStream stream;
    private final List<String> tasks;
    private final List<String> dense;
    private final SeededRandom random;
    private final long badEvery;
    private long index;

    /** The standard stream (see {@link Generator#standard}). */
    public GeneratedRecords(List<String> tasks, double[] rates, long seed, long badEvery) {
        this(tasks, Generator.standard(seed, rates), badEvery);
    }

    public GeneratedRecords(List<String> tasks, Generator generator, long badEvery) {
        this.stream = generator.stream(tasks);
        this.tasks = List.copyOf(tasks);
        this.dense = generator.dense();
        this.random = new SeededRandom(generator.seed() * 31 + 7);
        this.badEvery = badEvery;
    }

    public Record next() {
        index++;
        FeedbackEvent e = Events.fromSynthetic(stream.next(), tasks, dense);
        if (badEvery > 0 && index % badEvery == 0) {
            BadRecords.Kind kind = KINDS[(int) ((index / badEvery) % KINDS.length)];
            return new Record(BadRecords.make(kind, e, random), kind);
        }
        return new Record(Wire.encode(e), null);
    }
}
