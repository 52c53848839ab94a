package io.crossdistil.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.state.SeededRandom;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

class ParameterStoreTest {
    /** Two 2x3 weights, their biases, two 3x1 weights; fused: weights side by side, biases side by side, 3x1s on a diagonal. */
    private static ParameterStore store(boolean fused) {
        ParameterStore s = new ParameterStore(DataType.DOUBLE, new Adam(0.01));
        s.add("a.W", 1.0, 2, 3);
        s.add("a.b", 0.5, 1, 3);
        s.add("b.W", 1.0, 2, 3);
        s.add("b.b", 0.5, 1, 3);
        s.add("c.W", 1.0, 3, 1);
        s.add("d.W", 1.0, 3, 1);
        if (fused) {
            s.fuseSideBySide("ab.W", List.of("a.W", "b.W"));
            s.fuseSideBySide("ab.b", List.of("a.b", "b.b"));
            s.fuseBlockDiagonal("cd.W", List.of("c.W", "d.W"));
        }
        s.build(new SeededRandom(7));
        return s;
    }

    private static byte[] bytes(ParameterStore s) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        s.write(new DataOutputStream(b));
        return b.toByteArray();
    }

    private static double[][] matrix(ParameterStore s, String name) {
        return s.param(name).toDoubleMatrix();
    }

    @Test
    void fusedParametersKeepTheirNamesValuesAndStateFormat() throws IOException {
        ParameterStore plain = store(false);
        ParameterStore fused = store(true);
        assertEquals(plain.params().keySet(), fused.params().keySet());
        assertEquals(plain.size(), fused.size());
        for (String name : plain.params().keySet()) {
            assertArrayEquals(matrix(plain, name), matrix(fused, name), name);
        }
        double[][] ab = matrix(fused, "ab.W");
        double[][] a = matrix(plain, "a.W");
        double[][] b = matrix(plain, "b.W");
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(a[r][c], ab[r][c]);
                assertEquals(b[r][c], ab[r][3 + c]);
            }
        }
        double[][] cd = matrix(fused, "cd.W");
        for (int r = 0; r < 3; r++) {
            assertEquals(matrix(plain, "c.W")[r][0], cd[r][0]);
            assertEquals(0.0, cd[r][1]);
            assertEquals(0.0, cd[3 + r][0]);
            assertEquals(matrix(plain, "d.W")[r][0], cd[3 + r][1]);
        }
        assertArrayEquals(bytes(plain), bytes(fused));
    }

    @Test
    void weightsWithTheirBiasAreOneMatrixOfParametersAndOfGradients() {
        for (boolean fused : new boolean[] {false, true}) {
            ParameterStore s = store(fused);
            String w = fused ? "ab.W" : "a.W";
            String b = fused ? "ab.b" : "a.b";
            INDArray stacked = s.paramWithBias(w, b);
            assertArrayEquals(new long[] {s.param(w).rows() + 1, s.param(w).columns()}, stacked.shape());
            assertEquals(s.param(w), stacked.get(NDArrayIndex.interval(0, s.param(w).rows()), NDArrayIndex.all()));
            assertEquals(s.param(b), stacked.get(NDArrayIndex.interval(s.param(w).rows(), s.param(w).rows() + 1), NDArrayIndex.all()));
            // a view, not a copy: writing the stacked gradient writes both parameters' gradients
            s.gradWithBias(w, b).assign(2.5);
            assertEquals(2.5, s.grad(w).minNumber().doubleValue());
            assertEquals(2.5, s.grad(b).minNumber().doubleValue());
        }
        // a bias that does not follow its weights in the flat vector (or has other columns) has no stacked view
        ParameterStore s = store(false);
        assertNull(s.paramWithBias("a.W", "b.b"));
        assertNull(s.paramWithBias("c.W", "a.b"));
    }

    @Test
    void zerosAroundADiagonalBlockStayZeroThroughUpdates() throws IOException {
        ParameterStore plain = store(false);
        ParameterStore fused = store(true);
        for (int step = 0; step < 3; step++) {
            // a gradient everywhere in the fused matrix, the zeros included, as a matrix product writes it
            plain.params().keySet().forEach(n -> plain.grad(n).assign(1.0));
            fused.grad("ab.W").assign(1.0);
            fused.grad("ab.b").assign(1.0);
            fused.grad("cd.W").assign(1.0);
            plain.applyUpdate(step);
            fused.applyUpdate(step);
        }
        double[][] cd = matrix(fused, "cd.W");
        for (int r = 0; r < 3; r++) {
            assertEquals(0.0, cd[r][1]);
            assertEquals(0.0, cd[3 + r][0]);
        }
        for (String name : plain.params().keySet()) {
            assertArrayEquals(matrix(plain, name), matrix(fused, name), name);
        }
        // the same bytes, optimizer moments included, and either layout reads the other's
        byte[] state = bytes(plain);
        assertArrayEquals(state, bytes(fused));
        ParameterStore restored = store(true);
        restored.read(new DataInputStream(new ByteArrayInputStream(state)));
        assertArrayEquals(state, bytes(restored));
        assertArrayEquals(matrix(fused, "cd.W"), matrix(restored, "cd.W"));
    }

    @Test
    void oneNonFiniteValueMakesGradientsOrParametersNonFinite() {
        ParameterStore s = store(true);
        s.grad("cd.W").assign(1.0);
        assertTrue(s.gradientsFinite());
        assertTrue(s.allFinite());
        s.grad("d.W").putScalar(2, Double.NaN);
        assertFalse(s.gradientsFinite());
        s.param("b.W").putScalar(4, Double.POSITIVE_INFINITY);
        assertFalse(s.allFinite());
    }

    @Test
    void onlySameShapedMatricesFuse() {
        ParameterStore s = new ParameterStore(DataType.FLOAT, new Adam(0.01));
        s.add("a.W", 1.0, 2, 3);
        s.add("b.W", 1.0, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> s.fuseSideBySide("ab.W", List.of("a.W", "b.W")));
        assertThrows(IllegalArgumentException.class, () -> s.fuseSideBySide("a.W", List.of("b.W")));
    }
}
