package io.crossdistil.avro;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;
import org.apache.avro.SchemaParseException;

/**
 * Other versions of the {@link FeedbackEvent} schema that producers write with. A single-object
 * encoded record names its writer's schema only by fingerprint, so a reader must know every
 * writer schema in advance: without this, the first producer that adds a field to its events
 * (a new version of the schema, as Avro's schema evolution allows) sends every event to the
 * dead-letter topic. Each schema is checked, when it is given, for what Avro's schema resolution
 * can read as this project's event: fields the project does not know are skipped, fields the
 * writer lacks take their defaults.
 */
public final class WriterSchemas {
    private WriterSchemas() {}

    /**
     * The writer schema in {@code json}, checked; {@code source} names it in the message.
     *
     * @throws IllegalArgumentException saying what to fix when it is not a schema or events written with it cannot be read
     */
    public static Schema parse(String json, String source) {
        Schema writer;
        try {
            writer = new Schema.Parser().parse(json);
        } catch (SchemaParseException | NullPointerException e) {
            throw new IllegalArgumentException("writer schema " + source + " is not an Avro schema: " + e.getMessage(), e);
        }
        SchemaPairCompatibility c = SchemaCompatibility.checkReaderWriterCompatibility(FeedbackEvent.getClassSchema(), writer);
        if (c.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            String why = c.getResult().getIncompatibilities().stream().map(WriterSchemas::describe).collect(Collectors.joining("; "));
            throw new IllegalArgumentException("writer schema " + source + " (" + writer.getFullName() + "): events written with it"
                    + " cannot be read as " + FeedbackEvent.getClassSchema().getFullName() + ": " + why);
        }
        return writer;
    }

    /** {@link #parse} of each, in order. */
    public static List<Schema> parseAll(List<String> jsons) {
        List<Schema> out = new ArrayList<>();
        for (int i = 0; i < jsons.size(); i++) {
            out.add(parse(jsons.get(i), "#" + (i + 1)));
        }
        return out;
    }

    /** {@link #parse} of each schema by its Schema Registry id. */
    public static Map<Integer, Schema> parseById(Map<Integer, String> jsons) {
        Map<Integer, Schema> out = new TreeMap<>();
        jsons.forEach((id, json) -> out.put(id, parse(json, "of schema id " + id)));
        return out;
    }

    /** "the project's field 'labels' (/fields/6/type/values): type mismatch: reader type: INT not compatible with writer type: STRING". */
    private static String describe(Incompatibility i) {
        String where = i.getLocation();
        String[] parts = where.split("/");
        if (parts.length > 2 && parts[1].equals("fields") && parts[2].matches("\\d+")) {
            int f = Integer.parseInt(parts[2]);
            if (f < FeedbackEvent.getClassSchema().getFields().size()) {
                where = "the project's field '" + FeedbackEvent.getClassSchema().getFields().get(f).name() + "' (" + where + ")";
            }
        }
        return where + ": " + i.getType().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ": " + i.getMessage();
    }
}
