package io.crossdistil.job.io;

import io.crossdistil.model.ModelConfig;
import io.crossdistil.model.event.Example;
import io.crossdistil.model.features.InvalidEventException;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Decodes and validates; good records go on as {@link Example}s, bad ones to {@link #DEAD_LETTERS}. */
public final class DecodeFunction extends ProcessFunction<RawRecord, Example> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetterRecord> DEAD_LETTERS = new OutputTag<>("dead-letters") {};

    private final Map<String, String> modelOptions;
    private final DecodeSettings settings;
    private transient EventDecoder decoder;
    private transient DecodeMetrics metrics;

    public DecodeFunction(Map<String, String> modelOptions, DecodeSettings settings) {
        this.modelOptions = Map.copyOf(modelOptions);
        this.settings = settings;
    }

    @Override
    public void open(OpenContext context) {
        ModelConfig cfg = ModelConfig.fromMap(modelOptions);
        decoder = new EventDecoder(cfg, settings);
        metrics = new DecodeMetrics(getRuntimeContext().getMetricGroup(), cfg.denseFeatures);
    }

    @Override
    public void processElement(RawRecord record, Context ctx, Collector<Example> out) {
        try {
            Example e = decoder.decode(record.value);
            metrics.decoded(e);
            out.collect(e);
        } catch (InvalidEventException ex) {
            metrics.deadLetter();
            ctx.output(DEAD_LETTERS, new DeadLetterRecord(record, ex.getMessage(), System.currentTimeMillis()));
        }
    }
}
