package io.crossdistil.model.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crossdistil.avro.ModelSnapshot;
import io.crossdistil.avro.Tensor;
import io.crossdistil.avro.Wire;
import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.synthetic.SyntheticExamples;
import io.crossdistil.model.synthetic.SyntheticStream;
import io.crossdistil.model.training.OnlineTrainer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class SnapshotCodecTest {
    private static OnlineTrainer trained(String dtype) {
        // the last step's parameters, so that the snapshot's tensors are the model's (the average is ServedAverageTest's)
        ModelConfig cfg = ModelConfig.fromMap(Map.of("dtype", dtype, "hash-rows", "4096", "batch-size", "32",
                "quadruplets-per-step", "8", "marginal-pairs-per-step", "8", "snapshot-average-events", "0"));
        OnlineTrainer t = new OnlineTrainer(cfg, 1_000);
        SyntheticExamples.take(cfg, new SyntheticStream(cfg.tasks, new double[] {0.4, 0.2}, 5), 640).forEach(t::learn);
        return t;
    }

    /** The snapshot's tensors are written straight from the model's own storage: they must hold what tensors() holds. */
    @ParameterizedTest
    @ValueSource(strings = {"float", "double"})
    void aSnapshotHoldsEveryTensorOfTheModelInCOrderAsFloats(String dtype) {
        OnlineTrainer t = trained(dtype);
        ModelSnapshot s = SnapshotCodec.decode(SnapshotCodec.encode(t.snapshot(3, 1_700_000_000_000L)));
        Map<String, INDArray> expected = t.model().tensors();
        assertEquals(List.copyOf(expected.keySet()), s.getTensors().stream().map(Tensor::getName).toList());
        for (Tensor tensor : s.getTensors()) {
            INDArray e = expected.get(tensor.getName());
            assertArrayEquals(e.shape(), tensor.getShape().stream().mapToLong(Integer::longValue).toArray(), tensor.getName());
            float[] want = e.castTo(DataType.FLOAT).dup('c').data().asFloat();
            float[] got = SnapshotCodec.values(tensor);
            assertArrayEquals(want, got, tensor.getName());
        }
    }

    /** The size hint changes only how the bytes are buffered, never the bytes. */
    @Test
    void encodingWithASizeHintGivesAvrosOwnBytes() {
        ModelSnapshot s = trained("float").snapshot(1, 0);
        byte[] plain = Wire.encode(s);
        assertArrayEquals(plain, SnapshotCodec.encode(s));
        assertArrayEquals(plain, Wire.encode(s, 10));
        assertArrayEquals(plain, Wire.encode(s, plain.length));
        assertArrayEquals(plain, Wire.encode(s, plain.length * 2));
    }
}
