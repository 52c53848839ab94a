package io.crossdistil.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crossdistil.model.state.SeededRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Sgd;

/** A network fed [x 1] computes and differentiates what it computes fed x (the gradient checks cover the model as a whole). */
class MlpTest {
    private static final double TOLERANCE = 1e-12;

    private static ParameterStore store() {
        return new ParameterStore(DataType.DOUBLE, new Sgd(0.1));
    }

    private static INDArray withOnes(INDArray x) {
        return Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, x.rows(), 1));
    }

    private static INDArray firstColumns(INDArray a, long n) {
        return a.get(NDArrayIndex.all(), NDArrayIndex.interval(0, n)).dup();
    }

    @Test
    void anInputWithAOnesColumnGivesTheSameOutputsAndGradients() {
        ParameterStore s = store();
        Mlp net = new Mlp(s, "net", 5, new int[] {7, 4, 3}, false);
        s.build(new SeededRandom(3));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 6, 5).subi(0.5);
        INDArray dOut = Nd4j.rand(DataType.DOUBLE, 6, 3).subi(0.5);

        Mlp.Activations plain = net.forward(x, true);
        INDArray out = plain.output().dup();
        assertNull(plain.outputWithOnes());
        INDArray dIn = net.backward(plain, dOut, 0, 6, true).dup();
        INDArray grads = s.gradWithBias("net.0.W", "net.0.b").dup();

        s.zeroGrad();
        INDArray xWithOnes = withOnes(x);
        Mlp.Activations stacked = net.forward(xWithOnes.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 5)), xWithOnes, true, true);
        assertTrue(out.equalsWithEps(stacked.output().dup(), TOLERANCE));
        // the kept ones column is 1 after the ReLU, and the output is a view of the other columns
        assertEquals(6.0, stacked.outputWithOnes().getColumn(3).sumNumber().doubleValue(), TOLERANCE);
        assertTrue(out.equalsWithEps(firstColumns(stacked.outputWithOnes(), 3), TOLERANCE));
        // its gradient comes with the extra column, whose values are ignored
        INDArray dOutWithJunk = Nd4j.hstack(dOut, Nd4j.valueArrayOf(new long[] {6, 1}, 1e6, DataType.DOUBLE));
        INDArray dInWithOnes = net.backward(stacked, dOutWithJunk, 0, 6, true);
        assertEquals(6, dInWithOnes.columns());
        assertTrue(dIn.equalsWithEps(firstColumns(dInWithOnes, 5), TOLERANCE));
        assertTrue(grads.equalsWithEps(s.gradWithBias("net.0.W", "net.0.b"), TOLERANCE));
    }

    @Test
    void aGradientInTheWrongLayoutIsRefused() {
        ParameterStore s = store();
        Mlp net = new Mlp(s, "net", 2, new int[] {3}, false);
        s.build(new SeededRandom(3));
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 2);
        Mlp.Activations a = net.forward(x, null, true, true);
        assertThrows(IllegalArgumentException.class, () -> net.backward(a, Nd4j.zeros(DataType.DOUBLE, 4, 3), 0, 4, true));
    }
}
