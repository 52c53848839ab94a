package io.crossdistil.job.io;

import io.crossdistil.model.event.Example;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The type of the decoded event stream: {@link Example}s with {@link ExampleSerializer}. */
public final class ExampleTypeInfo extends TypeInformation<Example> {
    private static final long serialVersionUID = 1L;

    public static final ExampleTypeInfo INSTANCE = new ExampleTypeInfo();

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<Example> getTypeClass() {
        return Example.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<Example> createSerializer(SerializerConfig config) {
        return ExampleSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "Example";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExampleTypeInfo;
    }

    @Override
    public int hashCode() {
        return ExampleTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof ExampleTypeInfo;
    }
}
