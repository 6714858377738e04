/// The field numbers of jobwire.proto that code writing protobuf by hand
/// (``ProtobufWriter``, to splice cached encodings) relies on. Each is checked
/// against the protobuf-c descriptors by `WireFieldsTests`, so the `.proto`
/// cannot change under them unnoticed.
public enum WireFields {
    /// `Frame`'s kinds that the server writes by hand.
    public enum Frame {
        public static let reply: UInt64 = 4
        public static let end: UInt64 = 5
    }

    public enum Reply {
        public static let streamID: UInt64 = 1
        public static let message: UInt64 = 2
    }

    public enum End {
        public static let streamID: UInt64 = 1
        public static let status: UInt64 = 2
    }

    public enum Job {
        /// Log lines are appended to a job's cached encoding (which has none) per request.
        public static let logTail: UInt64 = 50
    }

    public enum WatchEvent {
        public static let type: UInt64 = 1
        public static let revision: UInt64 = 2
        public static let job: UInt64 = 3
        public static let newLogLines: UInt64 = 4
    }

    public enum JobsEvent {
        public static let type: UInt64 = 1
        public static let cursor: UInt64 = 2
        public static let jobs: UInt64 = 3
        public static let jobID: UInt64 = 4
    }

    public enum ConfigureResponse {
        public static let job: UInt64 = 1
        public static let created: UInt64 = 2
    }

    public enum BatchGetMetadataResponse {
        public static let results: UInt64 = 1
    }

    public enum BatchGetResult {
        public static let jobID: UInt64 = 1
        public static let job: UInt64 = 2
        public static let error: UInt64 = 3
    }

    public enum ListJobsResponse {
        public static let jobs: UInt64 = 1
        public static let nextPageToken: UInt64 = 2
        public static let totalCount: UInt64 = 3
    }
}
