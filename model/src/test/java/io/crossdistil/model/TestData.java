package io.crossdistil.model;

import io.crossdistil.model.event.Example;
import io.crossdistil.model.sampling.QuadrupletSampler;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Examples from the project's synthetic stream, hashed as the job hashes them, and model states of earlier formats. */
final class TestData {
    private TestData() {}

    static List<Example> examples(ModelConfig cfg, double[] rates, int n, long seed) {
        return SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, rates, seed, 2_000, 500), n);
    }

    static QuadrupletSampler filledSampler(ModelConfig cfg, List<Example> events) {
        QuadrupletSampler s = new QuadrupletSampler(cfg.numTasks(), cfg.features.size(), cfg.denseFeatures.size(), cfg.reservoirCapacity, cfg.seed);
        s.offerAll(events);
        return s;
    }

    /**
     * A model state of today's format rewritten as an older one: the format number, the
     * configuration without the options {@code newer} names (the older build did not know them),
     * the rest as it is (an older reader stops before what it does not know).
     */
    static byte[] asFormat(byte[] state, int format, Predicate<String> newer) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
        in.readInt();
        int n = in.readInt();
        Map<String, String> config = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            config.put(in.readUTF(), in.readUTF());
        }
        config.keySet().removeIf(newer);
        ByteArrayOutputStream old = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(old);
        out.writeInt(format);
        out.writeInt(config.size());
        for (Map.Entry<String, String> e : config.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
        in.transferTo(out);
        out.flush();
        return old.toByteArray();
    }
}
