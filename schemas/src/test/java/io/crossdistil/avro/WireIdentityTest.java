package io.crossdistil.avro;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

/**
 * A record in single-object encoding names its schema by the fingerprint of the schema's parsing
 * form, and a reader reads only the fingerprints it knows. A change to a schema that changes the
 * fingerprint (a field added, renamed, retyped or reordered; docs do not count) makes every
 * deployed reader of the old version refuse the new records: serving replicas every snapshot,
 * the job every event of producers built on the other version. This test makes such a change a
 * decision, not an accident.
 */
class WireIdentityTest {
    private static final Map<Schema, Long> RELEASED = Map.of(
            FeedbackEvent.getClassSchema(), 0xb6ec3d6fbfc71aabL,
            ModelSnapshot.getClassSchema(), 0xdff00d09894c0353L,
            DeadLetter.getClassSchema(), 0x8fc85532397e91c4L,
            TrainingMetrics.getClassSchema(), 0xd01cbdf1f6870925L);

    @Test
    void theRecordsKeepTheWireIdentityDeployedReadersKnow() {
        RELEASED.forEach((schema, fingerprint) -> assertEquals(fingerprint, SchemaNormalization.parsingFingerprint64(schema),
                () -> schema.getName() + " has a new wire identity, and readers of the released one refuse its records. Put new"
                        + " information where readers already look (a snapshot's config keys or tensors), or first give every"
                        + " reader the new version (the job: --writer-schemas; serving: an upgrade), and keep reading the old"
                        + " version; then record the new fingerprint here and say so in docs/operations.md"));
    }
}
