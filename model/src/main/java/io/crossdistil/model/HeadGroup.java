package io.crossdistil.model;

import io.crossdistil.model.nn.Mlp;

/**
 * The towers of {@code tasks} that read one input, computed as one network; output column i is
 * task {@code tasks[i]}'s logit.
 */
record HeadGroup(Mlp net, int[] tasks) {}
