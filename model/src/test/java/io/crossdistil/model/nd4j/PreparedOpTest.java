package io.crossdistil.model.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The kept-context ops compute what ND4J's ordinary calls compute, call after call, per thread. */
class PreparedOpTest {

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void productsMatchNd4jsMmulForEveryTransposeAndStayRightAcrossCalls(DataType dtype) {
        Nd4j.getRandom().setSeed(3);
        INDArray a = Nd4j.randn(dtype, 7, 5);
        INDArray b = Nd4j.randn(dtype, 5, 4);
        INDArray at = a.transpose().dup('c');
        INDArray bt = b.transpose().dup('c');
        INDArray expected = a.mmul(b);
        double tolerance = dtype == DataType.FLOAT ? 1e-5 : 1e-12;
        for (int call = 0; call < 3; call++) {
            assertEquals(expected, MatMul.of(a, false, b, false), "plain, call " + call);
            assertEquals(expected, MatMul.of(at, true, b, false), "A transposed, call " + call);
            assertEquals(expected, MatMul.of(a, false, bt, true), "B transposed, call " + call);
            assertEquals(expected, MatMul.of(at, true, bt, true), "both transposed, call " + call);
        }
        // another shape through the same kept context
        INDArray c = Nd4j.randn(dtype, 3, 7);
        assertEquals(0, c.mmul(a).sub(MatMul.of(c, false, a, false)).norm1Number().doubleValue(), tolerance * 10);
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void reluForwardAndBackwardMatchTheirDefinitionsInsideAWorkspace(DataType dtype) {
        WorkspaceConfiguration cfg = WorkspaceConfiguration.builder().build();
        for (int call = 0; call < 3; call++) {
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(cfg, "prepared-op-test")) {
                INDArray z = Nd4j.create(new double[][] {{-1.5, 0.0, 2.0}, {3.0, -0.25, 1e-3}}).castTo(dtype);
                INDArray expectedRelu = Transforms.relu(z, true);
                INDArray relu = PreparedOp.custom("relu", new long[0], new double[] {0.0}).get().exec(z.dup(), z);
                assertEquals(expectedRelu, relu);
                // a legacy scalar op made with placeholder arrays reads this call's arrays from the context
                INDArray step = PreparedOp.legacy(() -> {
                    INDArray placeholder = Nd4j.scalar(dtype, 0);
                    return new Step(placeholder, placeholder, 0.0);
                }).get().exec(Nd4j.createUninitialized(dtype, 2, 3), z);
                assertEquals(Nd4j.create(new double[][] {{0, 0, 1}, {1, 0, 1}}).castTo(dtype), step);
                INDArray d = Nd4j.create(new double[][] {{10, 20, 30}, {40, 50, 60}}).castTo(dtype);
                INDArray product = PreparedOp.site("multiply", new long[0], new double[0]).exec(Nd4j.createUninitialized(dtype, 2, 3), relu, d);
                assertEquals(relu.mul(d), product);
                INDArray difference = PreparedOp.site("subtract", new long[0], new double[0]).exec(d, d, relu);
                assertEquals(Nd4j.create(new double[][] {{10, 20, 28}, {37, 50, 60 - 1e-3}}).castTo(dtype), difference);
            }
        }
    }

    /** A site's context keeps the arrays it was given: new values in them, or other arrays, are what the next call computes with. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void aSiteComputesWithTheValuesAndArraysOfEveryCall(DataType dtype) {
        Nd4j.getRandom().setSeed(5);
        PreparedOp product = MatMul.site(true, false);
        PreparedOp difference = PreparedOp.site("subtract", new long[0], new double[0]);
        INDArray a = Nd4j.randn(dtype, 6, 3);
        INDArray b = Nd4j.randn(dtype, 6, 4);
        INDArray other = Nd4j.randn(dtype, 6, 4);
        INDArray out = Nd4j.createUninitialized(dtype, 3, 4);
        INDArray otherOut = Nd4j.createUninitialized(dtype, 3, 4);
        double tolerance = dtype == DataType.FLOAT ? 1e-5 : 1e-12;
        for (int call = 0; call < 4; call++) {
            // the same arrays with new values
            a.assign(Nd4j.randn(dtype, 6, 3));
            assertTrue(a.transpose().mmul(b).equalsWithEps(product.exec(out, a, b), tolerance), "call " + call);
            // one input and the output changed, the other kept
            assertTrue(a.transpose().mmul(other).equalsWithEps(product.exec(otherOut, a, other), tolerance), "call " + call);
            assertTrue(a.transpose().mmul(b).equalsWithEps(out, tolerance), "an earlier output is left alone, call " + call);
            INDArray expected = b.sub(other);
            assertEquals(expected, difference.exec(b.dup(), b, other));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void everyThreadHasItsOwnContext(DataType dtype) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?>[] runs = new Future<?>[4];
            for (int t = 0; t < runs.length; t++) {
                int seed = t;
                runs[t] = pool.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        INDArray a = Nd4j.rand(dtype, 16, 8).addi(seed);
                        INDArray b = Nd4j.rand(dtype, 8, 12);
                        assertEquals(a.mmul(b), MatMul.of(a, false, b, false));
                    }
                    return null;
                });
            }
            for (Future<?> r : runs) {
                r.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
