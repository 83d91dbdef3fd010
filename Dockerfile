# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/orgid ./cmd/orgid \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orgid /orgid
# The embedded store lives here when ORGID_DATABASE_URL is unset.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ORGID_ADDR=0.0.0.0:8080 ORGID_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/orgid"]
CMD ["serve"]
