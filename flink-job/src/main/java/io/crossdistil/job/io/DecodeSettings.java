package io.crossdistil.job.io;

import java.io.Serializable;
import java.util.List;

/**
 * What decoding accepts, as the job's configuration says, shipped to the decoders.
 *
 * @param maxFeatures an event with more categorical features is a dead letter
 * @param maxRecordBytes a larger record is a dead letter
 * @param ignoreOtherLabels true: labels of tasks the job does not train are passed over; false: they make the event a dead letter
 * @param writerSchemas other versions of the event schema that producers write with, as JSON (Avro's Schema is not
 *     serializable), checked when the job was configured
 */
public record DecodeSettings(int maxFeatures, int maxRecordBytes, boolean ignoreOtherLabels, List<String> writerSchemas)
        implements Serializable {
    public DecodeSettings {
        writerSchemas = List.copyOf(writerSchemas);
    }
}
