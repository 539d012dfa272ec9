#!/usr/bin/env python3
"""Writes tensorboard_reference.tfevents and tensorboard_hparams_reference.tfevents: TensorBoard event files made with
Google's own protobuf library, as references for MedVision.Torch's SummaryWriter (SummaryWriterTests compares the
bytes). The second holds what SummaryWriter.AddHyperparameters writes into its run folder (the hparams plugin's
experiment, session start and session end, then the metrics), with the plugin's protos from TensorBoard's
plugins/hparams/api.proto and plugin_data.proto (trimmed; same field numbers) and google/protobuf/struct.proto.

Independent of the C# writer: the messages are serialised by protoc-generated classes (Debian's protobuf-compiler
and python3-protobuf 3.21) from a trimmed copy of TensorBoard's event.proto / summary.proto / tensor.proto (same
field numbers and types); the histograms are counted by numpy.histogram and trimmed the way PyTorch 1.13's
torch.utils.tensorboard.summary.make_histogram trims them; the CRC-32C is checked against RFC 3720's test vectors.
PyTorch's SummaryWriter itself is not used: it needs the `tensorboard` package, which Debian does not ship.

Run: apt-get install protobuf-compiler python3-protobuf && /usr/bin/python3 make_tensorboard_fixture.py
"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

PROTO = """
syntax = "proto3";
package mvfixture;
import "google/protobuf/struct.proto";
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; bool unknown_rank = 3; }
message TensorProto {
  int32 dtype = 1; TensorShapeProto tensor_shape = 2; int32 version_number = 3; bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true]; repeated bytes string_val = 8;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1; string display_name = 2; string summary_description = 3; int32 data_class = 4;
}
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Value {
    string node_name = 7; string tag = 1; SummaryMetadata metadata = 9;
    oneof value { float simple_value = 2; Image image = 4; HistogramProto histo = 5; TensorProto tensor = 8; }
  }
  repeated Value value = 1;
}
message Experiment {
  string name = 6; string description = 1; string user = 2; double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5;
}
message HParamInfo {
  string name = 1; string display_name = 2; string description = 3; int32 type = 4;
  oneof domain { google.protobuf.ListValue domain_discrete = 5; }
}
message MetricName { string group = 1; string tag = 2; }
message MetricInfo { MetricName name = 1; string display_name = 3; string description = 4; int32 dataset_type = 5; }
message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1; string model_uri = 2; string monitor_url = 3; string group_name = 4;
  double start_time_secs = 5;
}
message SessionEndInfo { int32 status = 1; double end_time_secs = 2; }
message HParamsPluginData {
  int32 version = 1;
  oneof data { Experiment experiment = 2; SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; }
}
message Event {
  double wall_time = 1; int64 step = 2;
  oneof what { string file_version = 3; Summary summary = 5; }
}
"""


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


# RFC 3720, appendix B.4
assert crc32c(bytes(32)) == 0x8A9136AA
assert crc32c(bytes([0xFF] * 32)) == 0x62A8AB43
assert crc32c(bytes(range(32))) == 0x46DD794E


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(event):
    data = event.SerializeToString()
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked(header)) + data + struct.pack("<I", masked(data))


def tensorflow_edges():
    v, positive = 1e-12, []
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    return [-x for x in reversed(positive)] + [0] + positive


def histogram(pb, values, bins):
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    nonzero = np.nonzero(counts)[0]
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    return pb.HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                             sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "mvfixture.proto"), "w") as f:
            f.write(PROTO)
        subprocess.run(["protoc", "-I", tmp, "-I", "/usr/include", "--python_out", tmp, os.path.join(tmp, "mvfixture.proto")],
                       check=True)
        sys.path.insert(0, tmp)
        import mvfixture_pb2 as pb
        from google.protobuf import struct_pb2

    def summary_event(wall, step, value):
        e = pb.Event(wall_time=wall, summary=pb.Summary(value=[value]))
        if step is not None:
            e.step = step
        return e

    # Values whose sums are exact in any order (multiples of 1/4, small), so numpy's pairwise sum and dot agree with
    # a plain loop to the last bit.
    weights = [0.25, -1.5, 3.0, 0.0, 2.75, -0.5, 1.25, 3.0, -2.25, 0.5]
    events = [
        pb.Event(wall_time=1764979200.5, file_version="brain.Event:2"),
        summary_event(1764979201.25, 0, pb.Summary.Value(tag="loss/train", simple_value=0.0)),
        summary_event(1764979202.0, 1, pb.Summary.Value(tag="loss/train", simple_value=0.6931471805599453)),
        summary_event(1764979203.0, 123456789012, pb.Summary.Value(tag="lr", simple_value=-1e-3)),
        summary_event(1764979204.0, None, pb.Summary.Value(tag="nan", simple_value=float("nan"))),
        summary_event(1764979205.0, 2, pb.Summary.Value(tag="weights", histo=histogram(pb, weights, tensorflow_edges()))),
        summary_event(1764979206.0, 3, pb.Summary.Value(tag="weights/5 bins", histo=histogram(pb, weights, 5))),
        summary_event(1764979207.0, 4, pb.Summary.Value(tag="constant", histo=histogram(pb, [2.0, 2.0, 2.0], 3))),
        summary_event(1764979208.0, 5, pb.Summary.Value(
            tag="notes/text_summary",
            metadata=pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(plugin_name="text")),
            tensor=pb.TensorProto(dtype=7, string_val=["Grade **2** — ungradable? no".encode("utf-8")],
                                  tensor_shape=pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=1)])))),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensorboard_reference.tfevents")
    with open(out, "wb") as f:
        for e in events:
            f.write(record(e))
    print(f"wrote {out}: {len(events)} events, {os.path.getsize(out)} bytes")

    # AddHyperparameters({"lr": 0.01, "optimizer": "adam", "batch": 128, "augment": true, "note": null},
    #                    {"validation/auc": 0.75, "test/auc": 0.5}, {"optimizer": ["adam", "sgd"]}, step 7), all at one time.
    wall = 1764979300.0

    def plugin_value(tag, data):
        # Map entries in key order (deterministic serialisation), as the C# writer orders them.
        content = data.SerializeToString(deterministic=True)
        return pb.Summary.Value(tag=tag, metadata=pb.SummaryMetadata(
            plugin_data=pb.SummaryMetadata.PluginData(plugin_name="hparams", content=content)))

    start = pb.SessionStartInfo()
    start.hparams["lr"].number_value = 0.01
    start.hparams["optimizer"].string_value = "adam"
    start.hparams["batch"].number_value = 128
    start.hparams["augment"].bool_value = True
    experiment = pb.Experiment(
        hparam_infos=[
            pb.HParamInfo(name="lr", type=3),
            pb.HParamInfo(name="optimizer", type=1, domain_discrete=struct_pb2.ListValue(
                values=[struct_pb2.Value(string_value="adam"), struct_pb2.Value(string_value="sgd")])),
            pb.HParamInfo(name="batch", type=3),
            pb.HParamInfo(name="augment", type=2),
        ],
        metric_infos=[pb.MetricInfo(name=pb.MetricName(tag="validation/auc")), pb.MetricInfo(name=pb.MetricName(tag="test/auc"))])
    hparams_events = [
        pb.Event(wall_time=wall, file_version="brain.Event:2"),
        pb.Event(wall_time=wall, summary=pb.Summary(value=[plugin_value("_hparams_/experiment", pb.HParamsPluginData(experiment=experiment))])),
        pb.Event(wall_time=wall, summary=pb.Summary(value=[plugin_value("_hparams_/session_start_info", pb.HParamsPluginData(session_start_info=start))])),
        pb.Event(wall_time=wall, summary=pb.Summary(value=[plugin_value("_hparams_/session_end_info",
                                                                        pb.HParamsPluginData(session_end_info=pb.SessionEndInfo(status=1)))])),
        summary_event(wall, 7, pb.Summary.Value(tag="validation/auc", simple_value=0.75)),
        summary_event(wall, 7, pb.Summary.Value(tag="test/auc", simple_value=0.5)),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensorboard_hparams_reference.tfevents")
    with open(out, "wb") as f:
        for e in hparams_events:
            f.write(record(e))
    print(f"wrote {out}: {len(hparams_events)} events, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
