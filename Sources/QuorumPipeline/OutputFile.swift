import Foundation
import Glibc
import QuorumCore
import QuorumStore

/// Writing what a command produces to a file given by `--out`.
///
/// The one rule for every `--out`: a project's database (`quorum.sqlite`
/// and its `-wal`, `-shm` and `-journal` files, or the `quorum.json` naming
/// its PostgreSQL database, by path or by inode) and any
/// other SQLite database are never replaced; an existing file is replaced
/// only with `--force`; a directory or a missing parent directory is named
/// in words. The file is written to a temporary file next to it and renamed
/// into place, so a reader never sees half a file.
public enum OutputFile {
    /// Writes `text` to `path`.
    /// - Parameters:
    ///   - what: what is written ("export", "report"), for messages.
    ///   - force: replace an existing file.
    ///   - project: the project directory whose database must never be replaced.
    /// - Complexity: O(bytes).
    public static func write(_ text: String, to path: String, what: String, force: Bool,
                             project: String? = nil) throws(QuorumError) {
        try check(path, force: force, project: project)
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, what, errno) }
        let bytes = Array(text.utf8)
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        let code = errno
        close(fd)
        guard ok else { unlink(temporary); throw failure(path, what, code) }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure(path, what, code)
        }
    }

    /// The checks `write` makes before writing anything, for commands that
    /// want to refuse before a long computation (e.g. `simulate`).
    public static func check(_ path: String, force: Bool, project: String? = nil) throws(QuorumError) {
        guard !path.isEmpty else { throw QuorumError(.badInput, "--out is empty", hint: "give a file path") }
        var target = stat()
        let exists = lstat(path, &target) == 0
        if exists, (target.st_mode & S_IFMT) == S_IFDIR {
            throw QuorumError(.badInput, "\(visible(path)) is a directory", hint: "give --out a file path, e.g. \(visible(path))/out.jsonl")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var parent = stat()
        if !directory.isEmpty, stat(directory, &parent) != 0 || (parent.st_mode & S_IFMT) != S_IFDIR {
            throw QuorumError(.badInput, "\(visible(path)): the directory \(visible(directory)) does not exist",
                              hint: "create it first, or choose another --out")
        }
        if let project, isProjectDatabase(path, project: project) {
            throw QuorumError(.badInput, "\(visible(path)) is this project's database\(path.hasSuffix(Project.configFileName) ? " file (it names the PostgreSQL database)" : "")",
                              hint: "choose another --out; writing there would destroy the project")
        }
        guard exists else { return }
        if SQLiteStore.isSQLiteFile(path) {
            throw QuorumError(.badInput, "\(visible(path)) is a SQLite database",
                              hint: "choose another --out; Quorum never replaces a database with an output file")
        }
        if !force {
            throw QuorumError(.badInput, "\(visible(path)) already exists", hint: "choose another --out, or pass --force to replace it")
        }
    }

    /// Whether `path` names the project's database or one of its side files,
    /// by resolved path or by inode (hard links, symbolic links).
    static func isProjectDatabase(_ path: String, project: String) -> Bool {
        let database = SQLiteStore.databasePath(inProject: project)
        let protected = ["", "-wal", "-shm", "-journal"].map { database + $0 } + [Project.configPath(project)]
        let resolvedTarget = resolve(path)
        var target = stat()
        let targetExists = stat(path, &target) == 0
        for file in protected {
            if resolve(file) == resolvedTarget { return true }
            var s = stat()
            if targetExists, stat(file, &s) == 0, s.st_dev == target.st_dev, s.st_ino == target.st_ino { return true }
        }
        return false
    }

    /// The absolute path with symbolic links resolved; for a file that does
    /// not exist yet, its resolved directory plus its name.
    static func resolve(_ path: String) -> String {
        if let real = realpath(path, nil) { defer { free(real) }; return String(cString: real) }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard let real = realpath(directory.isEmpty ? "." : directory, nil) else { return path }
        defer { free(real) }
        return String(cString: real) + "/" + name
    }

    static func failure(_ path: String, _ what: String, _ code: Int32) -> QuorumError {
        let reason = String(cString: strerror(code)).lowercased()
        return QuorumError(.environment, "\(visible(path)): cannot write the \(what) (\(reason))",
                           hint: code == EACCES || code == EROFS || code == EPERM
                               ? "choose a --out in a directory you can write to" : "check the path and the free space")
    }

    private static func visible(_ s: String) -> String { TerminalText.visible(s) }
}
