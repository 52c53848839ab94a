package io.crossdistil.model.snapshot;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.TaskMetrics;
import io.crossdistil.avro.Tensor;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.CrossDistilModel;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.StudentModel;
import io.crossdistil.model.metrics.TaskScore;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Model snapshots: built from a model, encoded with Avro's single-object encoding, verified by a
 * SHA-256 checksum over their canonical content, and turned back into a model (or the students
 * alone, for serving) that scores exactly as the trainer did.
 */
public final class SnapshotCodec {
    private SnapshotCodec() {}

    /** Thrown for bytes that are not an intact snapshot. */
    public static final class CorruptSnapshotException extends RuntimeException {
        public CorruptSnapshotException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static ModelSnapshot build(long version, long createdAt, long eventsTrained, long lastEventTime,
            CrossDistilModel model, List<TaskScore> scores) {
        List<Tensor> tensors = new ArrayList<>();
        for (Map.Entry<String, long[]> e : model.tensorShapes().entrySet()) {
            long length = 1;
            List<Integer> shape = new ArrayList<>();
            for (long s : e.getValue()) {
                shape.add((int) s);
                length *= s;
            }
            ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(length * 4)).order(ByteOrder.LITTLE_ENDIAN);
            model.putFloats(e.getKey(), bytes.asFloatBuffer());
            tensors.add(Tensor.newBuilder().setName(e.getKey()).setShape(shape).setValues(bytes).build());
        }
        ModelSnapshot s = ModelSnapshot.newBuilder()
                .setVersion(version)
                .setCreatedAt(createdAt)
                .setEventsTrained(eventsTrained)
                .setLastEventTime(lastEventTime)
                .setConfig(model.config().toStored())
                .setTensors(tensors)
                .setMetrics(metrics(scores))
                .setChecksum("")
                .build();
        s.setChecksum(checksum(s));
        return s;
    }

    public static List<TaskMetrics> metrics(List<TaskScore> scores) {
        List<TaskMetrics> out = new ArrayList<>();
        for (TaskScore t : scores) {
            out.add(TaskMetrics.newBuilder().setTask(t.task()).setEvents(t.events()).setPositives(t.positives())
                    .setAuc(t.auc()).setMultiAuc(t.multiAuc()).setLogloss(t.logLoss()).setCalibration(t.calibration())
                    .setWindowAuc(t.windowAuc()).setWindowMultiAuc(t.windowMultiAuc()).setWindowLogloss(t.windowLogLoss())
                    .setWindowCalibration(t.windowCalibration()).build());
        }
        return out;
    }

    /** The inverse of {@link #metrics}. */
    public static List<TaskScore> scores(List<TaskMetrics> metrics) {
        List<TaskScore> out = new ArrayList<>();
        for (TaskMetrics t : metrics) {
            out.add(new TaskScore(t.getTask(), t.getEvents(), t.getPositives(), t.getAuc(), t.getMultiAuc(), t.getLogloss(),
                    t.getCalibration(), t.getWindowAuc(), t.getWindowMultiAuc(), t.getWindowLogloss(), t.getWindowCalibration()));
        }
        return out;
    }

    public static byte[] encode(ModelSnapshot s) {
        // the tensors' bytes and a margin for names, shapes, configuration and metrics
        long expected = 16_384;
        for (Tensor t : s.getTensors()) {
            expected += t.getValues().remaining() + 64;
        }
        return Wire.encode(s, (int) Math.min(expected, Integer.MAX_VALUE - 8));
    }

    /** Decodes and verifies; a truncated, altered or foreign record raises {@link CorruptSnapshotException}. */
    public static ModelSnapshot decode(byte[] bytes) {
        ModelSnapshot s;
        try {
            s = Wire.modelSnapshot(bytes);
        } catch (IOException | RuntimeException e) {
            throw new CorruptSnapshotException("not a readable model snapshot: " + e, e);
        }
        String expected = checksum(s);
        if (!expected.equals(s.getChecksum())) {
            throw new CorruptSnapshotException("snapshot version " + s.getVersion() + " fails its checksum (stored "
                    + s.getChecksum() + ", computed " + expected + ")", null);
        }
        return s;
    }

    /**
     * SHA-256 (hex) over the canonical content: the scalar fields, the configuration sorted by key,
     * every tensor (name, shape, bytes) and every metric, in their order. The checksum field itself
     * is not covered.
     */
    public static String checksum(ModelSnapshot s) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(buf);
            out.writeLong(s.getVersion());
            out.writeLong(s.getCreatedAt());
            out.writeLong(s.getEventsTrained());
            out.writeLong(s.getLastEventTime());
            for (Map.Entry<String, String> e : new TreeMap<>(s.getConfig()).entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            for (TaskMetrics m : s.getMetrics()) {
                out.writeUTF(m.getTask());
                out.writeLong(m.getEvents());
                out.writeLong(m.getPositives());
                for (double d : new double[] {m.getAuc(), m.getMultiAuc(), m.getLogloss(), m.getCalibration(),
                        m.getWindowAuc(), m.getWindowMultiAuc(), m.getWindowLogloss(), m.getWindowCalibration()}) {
                    out.writeLong(Double.doubleToLongBits(d));
                }
            }
            out.flush();
            sha.update(buf.toByteArray());
            for (Tensor t : s.getTensors()) {
                sha.update(t.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                for (int d : t.getShape()) {
                    sha.update(ByteBuffer.allocate(4).putInt(d).array());
                }
                sha.update(t.getValues().duplicate());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /**
     * A whole model (teachers, calibration and fresh optimizer state included) with the
     * snapshot's configuration and parameters: it predicts what the trainer predicted.
     */
    public static CrossDistilModel toModel(ModelSnapshot s) {
        CrossDistilModel model = new CrossDistilModel(ModelConfig.fromStored(s.getConfig()));
        model.loadTensors(tensors(s, model.config().dtype));
        return model;
    }

    /**
     * The students alone, what serving scores with: built straight from the snapshot's tensors,
     * without teachers, optimizer state or random initialisation. The snapshot's training options
     * do not matter to them and are read as this version's defaults ({@link ModelConfig#forScoring}).
     */
    public static StudentModel toStudentModel(ModelSnapshot s) {
        ModelConfig cfg = ModelConfig.forScoring(s.getConfig());
        return StudentModel.of(cfg, tensors(s, cfg.dtype));
    }

    /** A tensor's values in C order (little-endian floats in the snapshot). */
    public static float[] values(Tensor t) {
        float[] v = new float[t.getValues().remaining() / 4];
        t.getValues().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    /** The snapshot's tensors by name, in the model's data type. */
    static Map<String, INDArray> tensors(ModelSnapshot s, DataType dtype) {
        Map<String, INDArray> values = new LinkedHashMap<>();
        for (Tensor t : s.getTensors()) {
            float[] v = values(t);
            long[] shape = t.getShape().stream().mapToLong(Integer::longValue).toArray();
            values.put(t.getName(), Nd4j.create(Nd4j.createBuffer(v), shape).castTo(dtype));
        }
        return values;
    }
}
