// The S3 lines of the command's usage text, apart from s3-flags.ts so that printing them loads no SDK.

export const S3_USAGE = `S3 (instead of --dir; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never argv):
  --s3-bucket NAME              store into this bucket as multipart uploads; nodes sharing it resume
                                each other's uploads
  --s3-prefix uploads/          key prefix  --s3-endpoint URL (RGW, MinIO)  --s3-region us-east-1
  --s3-path-style               path-style addressing (RGW, MinIO)
  --s3-part-memory 64M          memory per node for bytes not yet in a part, shared by all uploads:
                                what bounds the node's memory (uploads wait for it, not allocate)`;
