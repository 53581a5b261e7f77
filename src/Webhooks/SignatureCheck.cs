namespace DirectorySync.Webhooks;

/// <summary>Why a <c>WorkOS-Signature</c> header was accepted or refused.</summary>
public enum SignatureOutcome
{
    Valid,
    MissingHeader,
    MalformedHeader,
    MissingTimestamp,
    MissingSignature,
    TimestampOutsideTolerance,
    SignatureMismatch,
}

/// <summary>The verdict on one request's signature.</summary>
public readonly record struct SignatureCheck(SignatureOutcome Outcome)
{
    public bool IsValid => Outcome == SignatureOutcome.Valid;

    /// <summary>A short reason for a 401 body or a log line: it never holds the secret or the body.</summary>
    public string Reason => Outcome switch
    {
        SignatureOutcome.Valid => "valid",
        SignatureOutcome.MissingHeader => "missing WorkOS-Signature header",
        SignatureOutcome.MalformedHeader => "malformed WorkOS-Signature header",
        SignatureOutcome.MissingTimestamp => "WorkOS-Signature header has no t",
        SignatureOutcome.MissingSignature => "WorkOS-Signature header has no v1",
        SignatureOutcome.TimestampOutsideTolerance => "signature timestamp outside tolerance",
        SignatureOutcome.SignatureMismatch => "signature mismatch",
        _ => "signature rejected",
    };
}
