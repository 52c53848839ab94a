package io.crossdistil.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.FeatureEncoder;
import io.crossdistil.model.features.FeatureHasher;
import io.crossdistil.model.snapshot.SnapshotCodec;
import io.crossdistil.model.training.OnlineTrainer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/snapshot-format.md, implemented from scratch in plain Java loops (no ND4J, none of the
 * model's classes but the Avro record), against {@link Scorer}: the page says everything a
 * serving fleet in another language must compute, and says it right.
 */
class SnapshotSpecTest {
    /** The page, step by step, for one event given as plain feature maps. */
    static final class SpecScorer {
        private final Map<String, String> config;
        private final Map<String, float[]> values = new HashMap<>();
        private final Map<String, List<Integer>> shapes = new HashMap<>();

        SpecScorer(ModelSnapshot s) {
            config = s.getConfig();
            for (Tensor t : s.getTensors()) {
                values.put(t.getName(), SnapshotCodec.values(t));
                shapes.put(t.getName(), t.getShape());
            }
        }

        private List<String> list(String key) {
            String v = config.get(key);
            return v == null || v.isBlank() ? List.of() : List.of(v.split(","));
        }

        double[] score(Map<String, String> categorical, Map<String, Float> dense) {
            // 1. rows and 2. input: the embedding rows in field order, then the dense numbers
            int rows = Integer.parseInt(config.get("hash-rows"));
            int dim = Integer.parseInt(config.get("embedding-dim"));
            List<String> fields = list("features");
            List<String> denseFields = list("dense-features");
            double[] x = new double[fields.size() * dim + denseFields.size()];
            float[] embedding = values.get("embedding");
            for (int f = 0; f < fields.size(); f++) {
                String v = categorical.getOrDefault(fields.get(f), "\u0000missing");
                int row = Math.floorMod(murmur3(fields.get(f) + "\u0001" + v), rows);
                for (int d = 0; d < dim; d++) {
                    x[f * dim + d] = embedding[row * dim + d];
                }
            }
            // 3. dense numbers
            String scaling = config.get("dense-scaling");
            int nf = denseFields.size();
            float[] s = values.get("dense-scaling.sums");
            for (int j = 0; j < nf; j++) {
                Float raw = dense.get(denseFields.get(j));
                double in;
                if (scaling.equals("none")) {
                    in = raw == null ? 0 : raw;
                } else {
                    double n = (double) s[0] - (s.length == 1 + 2 * nf ? 0 : (double) s[1 + 2 * nf + j]);
                    double mean = n > 0 ? s[1 + j] / n : 0;
                    double var = n > 0 ? s[1 + nf + j] / n - mean * mean : 0;
                    double sd = var > 0 && var > 1e-5 * mean * mean ? Math.sqrt(var) : 0;
                    double t = raw == null ? 0 : scaling.equals("log") ? Math.signum(raw) * Math.log1p(Math.abs(raw)) : raw;
                    in = raw == null || sd == 0 ? 0 : (t - mean) / sd;
                }
                x[fields.size() * dim + j] = in;
            }
            // 4. shared bottom
            double[] h = x;
            for (int l = 0; l < list("bottom-layers").size(); l++) {
                h = layer(h, "bottom." + l, true);
            }
            // 5. towers and 6. probabilities
            List<String> tasks = list("tasks");
            int towerLayers = list("tower-layers").size();
            boolean calibrated = config.get("output-calibration").equals("true") && values.containsKey("output.P");
            double[] p = new double[tasks.size()];
            for (int k = 0; k < tasks.size(); k++) {
                double[] z = h;
                for (int l = 0; l <= towerLayers; l++) {
                    z = layer(z, "student." + tasks.get(k) + "." + l, l < towerLayers);
                }
                double r = z[0];
                double logit = calibrated ? values.get("output.P")[k] * r + values.get("output.Q")[k] : r;
                p[k] = 1 / (1 + Math.exp(-logit));
            }
            return p;
        }

        /** relu(in W + b), or in W + b. */
        private double[] layer(double[] in, String name, boolean relu) {
            float[] w = values.get(name + ".W");
            float[] b = values.get(name + ".b");
            int outs = shapes.get(name + ".W").get(1);
            assertEquals(in.length, (int) shapes.get(name + ".W").get(0), name);
            double[] out = new double[outs];
            for (int o = 0; o < outs; o++) {
                double sum = b[o];
                for (int i = 0; i < in.length; i++) {
                    sum += in[i] * w[i * outs + o];
                }
                out[o] = relu ? Math.max(0, sum) : sum;
            }
            return out;
        }
    }

    /** MurmurHash3 x86_32 of a string's UTF-8 bytes, seed 0, after Austin Appleby's reference code. */
    static int murmur3(String text) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        int h = 0;
        int blocks = data.length / 4;
        for (int i = 0; i < blocks; i++) {
            int k = (data[4 * i] & 0xff) | (data[4 * i + 1] & 0xff) << 8 | (data[4 * i + 2] & 0xff) << 16 | (data[4 * i + 3] & 0xff) << 24;
            h ^= Integer.rotateLeft(k * 0xcc9e2d51, 15) * 0x1b873593;
            h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
        }
        int k = 0;
        switch (data.length & 3) {
            case 3:
                k ^= (data[4 * blocks + 2] & 0xff) << 16;
            case 2:
                k ^= (data[4 * blocks + 1] & 0xff) << 8;
            case 1:
                k ^= data[4 * blocks] & 0xff;
                h ^= Integer.rotateLeft(k * 0xcc9e2d51, 15) * 0x1b873593;
            default:
        }
        h ^= data.length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    @Test
    void theHashIsMurmurHash3AsPublished() {
        assertEquals(0, murmur3(""));
        assertEquals(0x2e4ff723, murmur3("The quick brown fox jumps over the lazy dog"));
        byte[] fox = "The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8);
        assertEquals(0x2e4ff723, FeatureHasher.murmur3x86_32(fox, 0));
        FeatureHasher hasher = new FeatureHasher(List.of("user_id"), 131_072);
        for (String v : List.of("u1", "", "a-longer-id-1234567", "caf\u00e9", FeatureHasher.MISSING)) {
            assertEquals(Math.floorMod(murmur3("user_id\u0001" + v), 131_072), hasher.rows(Map.of("user_id", v))[0], v);
        }
        assertEquals(Math.floorMod(murmur3("user_id\u0001\u0000missing"), 131_072), hasher.rows(Map.of())[0], "a missing field");
        // the page's known answers
        assertEquals(0x0cdd2f41, murmur3("user_id\u0001u1"));
        assertEquals(77_633, Math.floorMod(murmur3("user_id\u0001u1"), 131_072));
        assertEquals(108_079, Math.floorMod(murmur3("item_id\u0001i1"), 131_072));
        assertEquals(4_720, Math.floorMod(murmur3("user_id\u0001\u0000missing"), 131_072));
    }

    @ParameterizedTest
    @ValueSource(strings = {"standard", "log", "none"})
    void thePageComputesWhatServingComputes(String scaling) {
        ModelConfig cfg = ModelConfig.fromMap(Map.of("tasks", "finish,like,share", "features", "user_id,item_id,author",
                "dense-features", "watch,price", "dense-scaling", scaling, "hash-rows", "2048", "embedding-dim", "4",
                "bottom-layers", "16,8", "tower-layers", "6,3", "batch-size", "64"));
        Random random = new Random(5);
        OnlineTrainer trainer = new OnlineTrainer(cfg, 1_000);
        FeatureEncoder encoder = new FeatureEncoder(cfg);
        for (int i = 0; i < 1_280; i++) {
            Example e = encoder.encode(categorical(random), dense(random));
            trainer.learn(new Example("e" + i, i, e.rows.clone(), e.dense.clone(), random.nextInt(8)));
        }
        ModelSnapshot snapshot = SnapshotCodec.decode(SnapshotCodec.encode(trainer.snapshot(1, 0)));
        Scorer scorer = Scorer.of(snapshot);
        SpecScorer spec = new SpecScorer(snapshot);
        double largest = 0;
        for (int i = 0; i < 300; i++) {
            Map<String, String> c = categorical(random);
            Map<String, Float> d = dense(random);
            double[] want = scorer.score(c, d);
            double[] got = spec.score(c, d);
            for (int k = 0; k < want.length; k++) {
                largest = Math.max(largest, Math.abs(want[k] - got[k]));
            }
        }
        assertTrue(largest < 1e-5, "largest difference " + largest);
    }

    /** Ids from a small set (rows repeat, so the model learns them), a field sometimes missing, a value with a non-ASCII character. */
    private static Map<String, String> categorical(Random random) {
        Map<String, String> m = new HashMap<>();
        m.put("user_id", "u" + random.nextInt(50));
        m.put("item_id", random.nextInt(10) == 0 ? "\u00e9l\u00e9ment-" + random.nextInt(5) : "i" + random.nextInt(30));
        if (random.nextInt(4) > 0) {
            m.put("author", "a" + random.nextInt(8));
        }
        return m;
    }

    /** A duration and a heavy-tailed price, each sometimes missing. */
    private static Map<String, Float> dense(Random random) {
        Map<String, Float> m = new HashMap<>();
        if (random.nextInt(5) > 0) {
            m.put("watch", (float) (30 + 10 * random.nextGaussian()));
        }
        if (random.nextInt(3) > 0) {
            m.put("price", (float) Math.exp(3 + 2 * random.nextGaussian()));
        }
        return m;
    }
}
