package io.crossdistil.model;

/**
 * What a model has seen of one dense field: the mean and standard deviation it scales the field
 * with (of the values after the scaling's transform; sd 0: not seen to vary, the field reads 0),
 * and how many trained events had the field and how many lacked it.
 */
public record DenseStatistics(String field, double mean, double sd, long values, long missing) {
    /** The part of the trained events that lacked the field (0 before any). */
    public double missingShare() {
        return values + missing == 0 ? 0 : (double) missing / (values + missing);
    }
}
