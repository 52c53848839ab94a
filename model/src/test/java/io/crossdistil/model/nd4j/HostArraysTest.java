package io.crossdistil.model.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class HostArraysTest {
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void matrixTakesTheFirstRowsTimesColsValuesAndReadsBackInCOrder(DataType dtype) {
        double[] values = {0.5, -1.25, 3.0, 4.5, 1e-3, 7.0, 99.0}; // one more than the matrix needs
        INDArray m = HostArrays.matrix(values, 2, 3, dtype);
        assertEquals(dtype, m.dataType());
        assertArrayEquals(new long[] {2, 3}, m.shape());
        assertEquals(-1.25, m.getDouble(0, 1), 0.0);
        assertEquals(4.5, m.getDouble(1, 0), 0.0);
        double[] expected = {0.5, -1.25, 3.0, 4.5, dtype == DataType.FLOAT ? (float) 1e-3 : 1e-3, 7.0};
        assertArrayEquals(expected, HostArrays.values(m), 0.0);

        double[] into = new double[8];
        java.util.Arrays.fill(into, 42);
        assertSame(into, HostArrays.values(m, into));
        assertArrayEquals(expected, java.util.Arrays.copyOf(into, 6), 0.0);
        assertEquals(42, into[6], 0.0, "values past the array's length are left alone");
        assertThrows(IllegalArgumentException.class, () -> HostArrays.values(m, new double[5]));
        assertThrows(IllegalArgumentException.class, () -> HostArrays.matrix(new double[5], 2, 3, dtype));
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void viewsAreReadInCOrder(DataType dtype) {
        INDArray m = Nd4j.arange(12).castTo(dtype).reshape('c', 3, 4);
        INDArray columns = m.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3));
        assertArrayEquals(new double[] {1, 2, 5, 6, 9, 10}, HostArrays.values(columns), 0.0);
        assertArrayEquals(new double[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, HostArrays.values(m.transpose()), 0.0);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void putFloatsWritesCOrderFloatsAfterWhatTheBufferHolds(DataType dtype) {
        INDArray m = Nd4j.arange(12).castTo(dtype).reshape('c', 3, 4).addi(0.1);
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * 11).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.FloatBuffer out = bytes.asFloatBuffer();
        out.put(-7f);
        HostArrays.putFloats(m.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 3)), out);
        HostArrays.putFloats(m.get(NDArrayIndex.point(2), NDArrayIndex.all()).reshape(1, 4).dup('c'), out);
        assertEquals(11, out.position());
        float[] read = new float[11];
        bytes.asFloatBuffer().get(read);
        assertArrayEquals(new float[] {-7f, 1.1f, 2.1f, 5.1f, 6.1f, 9.1f, 10.1f, 8.1f, 9.1f, 10.1f, 11.1f}, read);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void allFiniteFindsNaNAndInfinityInWholeArraysAndViews(DataType dtype) {
        INDArray m = Nd4j.ones(dtype, 4, 5);
        assertTrue(HostArrays.allFinite(m));
        m.putScalar(3, 4, Double.NaN);
        assertFalse(HostArrays.allFinite(m));
        assertTrue(HostArrays.allFinite(m.get(NDArrayIndex.interval(0, 3), NDArrayIndex.all())), "the view leaves the NaN out");
        m.putScalar(3, 4, 1.0);
        m.putScalar(0, 0, Double.NEGATIVE_INFINITY);
        assertFalse(HostArrays.allFinite(m));
        assertFalse(HostArrays.allFinite(m.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2))));
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void insideAWorkspaceTheMatrixIsWorkspaceMemory(DataType dtype) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(
                WorkspaceConfiguration.builder().build(), "host-arrays-test")) {
            INDArray m = HostArrays.matrix(new double[] {1, 2, 3, 4}, 2, 2, dtype);
            assertTrue(m.isAttached(), "allocated in the active workspace");
            assertArrayEquals(new double[] {1, 2, 3, 4}, HostArrays.values(m.mul(1)), 0.0);
        }
        assertFalse(HostArrays.matrix(new double[] {1, 2}, 1, 2, dtype).isAttached(), "outside any workspace: an ordinary array");
    }
}
