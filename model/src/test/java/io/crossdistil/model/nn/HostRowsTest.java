package io.crossdistil.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.nd4j.HostArrays;
import io.crossdistil.model.state.ArrayCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Interleaved host tables behave as separate tables: each reads, writes and serializes only its own values. */
class HostRowsTest {
    private static final int ROWS = 5;
    private static final int DIM = 3;

    /** Value j of row r of table t, distinct everywhere. */
    private static double value(int t, int r, int j) {
        return 100 * t + 10 * r + j + 0.5;
    }

    private static HostRows[] filled(DataType dtype) {
        HostRows[] tables = HostRows.interleaved(dtype, ROWS, DIM, 3);
        for (int t = 0; t < tables.length; t++) {
            for (int r = 0; r < ROWS; r++) {
                for (int j = 0; j < DIM; j++) {
                    tables[t].set(r * DIM + j, value(t, r, j));
                }
            }
        }
        return tables;
    }

    private static double[] rowsOf(int t, int... rows) {
        double[] out = new double[rows.length * DIM];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < DIM; j++) {
                out[i * DIM + j] = value(t, rows[i], j);
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void aGatherInGroupsPutsAOneAfterEveryGroup(DataType dtype) {
        HostRows table = filled(dtype)[1];
        // two events of two fields: rows 4, 0 | 2, 2, each event followed by a 1
        INDArray out = Nd4j.createUninitialized(dtype, 2, 2 * DIM + 1);
        table.gather(new int[] {4, 0, 2, 2}, 4, 2, out);
        double[] a = rowsOf(1, 4, 0);
        double[] b = rowsOf(1, 2, 2);
        double[] expected = new double[2 * (2 * DIM + 1)];
        System.arraycopy(a, 0, expected, 0, 2 * DIM);
        expected[2 * DIM] = 1;
        System.arraycopy(b, 0, expected, 2 * DIM + 1, 2 * DIM);
        expected[expected.length - 1] = 1;
        assertArrayEquals(expected, HostArrays.values(out), 0.0);
        // an array of the wrong length, or rows that do not make whole groups, are refused
        assertThrows(IllegalArgumentException.class, () -> table.gather(new int[] {4, 0, 2, 2}, 4, 2, Nd4j.createUninitialized(dtype, 2, 2 * DIM)));
        assertThrows(IllegalArgumentException.class, () -> table.gather(new int[] {4, 0, 2}, 3, 2, Nd4j.createUninitialized(dtype, 1, 3 * DIM + 1)));
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void eachTableReadsAndChangesOnlyItsOwnValues(DataType dtype) {
        HostRows[] tables = filled(dtype);
        for (int t = 0; t < tables.length; t++) {
            for (int i = 0; i < ROWS * DIM; i++) {
                assertEquals(value(t, i / DIM, i % DIM), tables[t].get(i), 0.0);
            }
        }
        int[] picked = {4, 0, 2};
        INDArray gathered = tables[1].gather(picked, picked.length);
        assertArrayEquals(new long[] {3, DIM}, gathered.shape());
        assertArrayEquals(rowsOf(1, picked), HostArrays.values(gathered), 0.0);

        // write table 1's rows 4 and 0 from an array, subtract from table 2's row 3: the others stay
        INDArray written = HostArrays.matrix(new double[] {-1, -2, -3, -4, -5, -6}, 2, DIM, dtype);
        tables[1].scatter(new int[] {4, 0}, 2, written);
        tables[2].subtract(new int[] {3}, 1, HostArrays.matrix(new double[] {1, 1, 1}, 1, DIM, dtype));
        assertArrayEquals(new double[] {-1, -2, -3}, HostArrays.values(tables[1].gather(new int[] {4}, 1)), 0.0);
        assertArrayEquals(new double[] {-4, -5, -6}, HostArrays.values(tables[1].gather(new int[] {0}, 1)), 0.0);
        double[] row3 = rowsOf(2, 3);
        for (int j = 0; j < DIM; j++) {
            row3[j] -= 1;
        }
        assertArrayEquals(row3, HostArrays.values(tables[2].gather(new int[] {3}, 1)), 0.0);
        assertArrayEquals(rowsOf(0, 0, 1, 2, 3, 4), HostArrays.values(tables[0].all()), 0.0);
        assertArrayEquals(rowsOf(2, 4), HostArrays.values(tables[2].gather(new int[] {4}, 1)), 0.0);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void eachTableSerializesAsAPlainArrayOfItsOwnValues(DataType dtype) throws IOException {
        HostRows[] tables = filled(dtype);
        ByteArrayOutputStream interleaved = new ByteArrayOutputStream();
        tables[1].write(new DataOutputStream(interleaved));
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        ArrayCodec.write(new DataOutputStream(plain), rowsOf(1, 0, 1, 2, 3, 4), dtype);
        assertArrayEquals(plain.toByteArray(), interleaved.toByteArray());

        HostRows[] restored = HostRows.interleaved(dtype, ROWS, DIM, 3);
        restored[1].read(new DataInputStream(new ByteArrayInputStream(interleaved.toByteArray())));
        assertArrayEquals(rowsOf(1, 0, 1, 2, 3, 4), HostArrays.values(restored[1].all()), 0.0);
        assertArrayEquals(new double[ROWS * DIM], HostArrays.values(restored[0].all()), 0.0);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void finitenessIsPerTable(DataType dtype) {
        HostRows[] tables = filled(dtype);
        tables[2].set(7, Double.NaN);
        assertTrue(tables[0].allFinite());
        assertTrue(tables[1].allFinite());
        assertFalse(tables[2].allFinite());
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void refusesAnArrayTheRowsDoNotFill(DataType dtype) {
        HostRows table = HostRows.of(dtype, ROWS, DIM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> table.gather(new int[] {1, 2}, 2, Nd4j.create(dtype, 2, DIM + 1)));
        assertTrue(e.getMessage().contains("do not fill"), e.getMessage());
    }
}
