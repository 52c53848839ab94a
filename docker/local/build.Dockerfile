# A local stand-in for docker/Dockerfile's Maven build image: a JRE base holding, in /out, what
# the Dockerfile's build stage would make (the job jar, the command line's runtime jars), from
# this machine's Maven build. The build stage then finds /out and builds nothing. Built by
# docker/local-bases.sh.
ARG JRE_IMAGE
FROM ${JRE_IMAGE}
COPY out /out
