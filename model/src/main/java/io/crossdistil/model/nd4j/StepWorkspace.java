package io.crossdistil.model.nd4j;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ND4J workspace a training step runs in: every array the step creates lives there, memory
 * reused from step to step instead of some thirty native allocations (malloc, zeroing, page
 * faults): 6-9% of a step's CPU time in alternating A/B rounds. Sized by the first step; nothing
 * made in it may outlive the step (ND4J fails an op that reads such an array).
 */
public final class StepWorkspace {
    private static final WorkspaceConfiguration CONFIGURATION = WorkspaceConfiguration.builder()
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyAllocation(AllocationPolicy.OVERALLOCATE).overallocationLimit(0.3)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private StepWorkspace() {}

    /** Opens this thread's step workspace; close it when the step ends. */
    public static MemoryWorkspace open() {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIGURATION, "crossdistil-step");
    }
}
