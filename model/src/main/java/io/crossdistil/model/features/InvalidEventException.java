package io.crossdistil.model.features;

/** A record that is not a valid feedback event; the message is the dead letter's reason. */
public final class InvalidEventException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidEventException(String reason) {
        super(reason, null, false, false);
    }
}
