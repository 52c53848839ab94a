package io.crossdistil.job.io;

import io.crossdistil.avro.WriterSchemas;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What decoding accepts, as the job's configuration says, shipped to the decoders.
 *
 * @param maxFeatures an event with more categorical features is a dead letter
 * @param maxRecordBytes a larger record is a dead letter
 * @param ignoreOtherLabels true: labels of tasks the job does not train are passed over; false: they make the event a dead letter
 * @param writerSchemas other versions of the event schema that producers write with, as JSON (Avro's Schema is not
 *     serializable), checked when the job was configured
 * @param registrySchemas the writer schema of each Schema Registry id that producers frame events with, as JSON,
 *     checked when the job was configured
 */
public record DecodeSettings(int maxFeatures, int maxRecordBytes, boolean ignoreOtherLabels, List<String> writerSchemas,
        Map<Integer, String> registrySchemas) implements Serializable {
    public DecodeSettings {
        writerSchemas = List.copyOf(writerSchemas);
        registrySchemas = Map.copyOf(registrySchemas);
    }

    /** Settings for events in single-object encoding only. */
    public DecodeSettings(int maxFeatures, int maxRecordBytes, boolean ignoreOtherLabels, List<String> writerSchemas) {
        this(maxFeatures, maxRecordBytes, ignoreOtherLabels, writerSchemas, Map.of());
    }

    /** The text of each file named, checked as a writer schema of events: read where the job is configured (the client), so TaskManagers need not see the files. */
    public static List<String> writerSchemas(String paths) {
        List<String> out = new ArrayList<>();
        for (String p : paths.split(",")) {
            if (!p.isBlank()) {
                out.add(schemaFile("writer-schemas", p.trim()));
            }
        }
        return List.copyOf(out);
    }

    /** The text of a writer schema's file, checked. */
    private static String schemaFile(String option, String path) {
        String json;
        try {
            json = Files.readString(Path.of(path));
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException("option --" + option + ": cannot read '" + path + "': " + e, e);
        }
        WriterSchemas.parse(json, "'" + path + "'");
        return json;
    }

    /** The schema file of each Schema Registry id in "ID=FILE,...", read and checked here as {@link #writerSchemas} does. */
    public static Map<Integer, String> registrySchemas(String pairs) {
        Map<Integer, String> out = new TreeMap<>();
        for (String pair : pairs.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            String[] idFile = pair.trim().split("=", 2);
            int id;
            try {
                id = Integer.parseInt(idFile[0].trim());
            } catch (NumberFormatException e) {
                id = -1;
            }
            if (idFile.length != 2 || id < 0 || out.containsKey(id)) {
                throw new IllegalArgumentException("option --registry-schemas: '" + pair.trim() + "' is not ID=FILE with a schema id"
                        + " (a number, each once) and its schema's file, e.g. --registry-schemas 17=feedback-v1.avsc,21=feedback-v2.avsc");
            }
            out.put(id, schemaFile("registry-schemas", idFile[1].trim()));
        }
        return out;
    }
}
